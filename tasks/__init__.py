"""Built-in benchmark tasks, each registered through the `register_tasks` hook."""
