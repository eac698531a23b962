"""Built-in model adapters, each registered through the `register_adapters` hook."""
