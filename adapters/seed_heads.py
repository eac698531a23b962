"""Folders of per-dimension MLP heads (LAION's Empathic Insight layout) and one bank to run them.

The released layout (laion/Empathic-Insight-Voice-Small and -Large on the hub) is one file per
emotion or attribute, `model_<Dimension>_best.pth`: a plain torch state dict (saved from a
`torch.compile`d module, so keys may carry an `_orig_mod.` prefix) of LAION's
"FullEmbeddingMLP": flatten the encoder's whole output sequence (1500 frames × 768), then
  proj: Linear(1500·768 → P), ReLU, then Linear → ReLU → ... → Linear(→ 1)
with dropout between (inactive at inference). Small: P=64, hidden 64/32/16; Large: P=128,
hidden 128/64/32. Keys: proj.weight/bias and mlp.{2,5,8,11}.weight/bias (ReLU and Dropout
sit at the indices in between). Heads whose projection takes 4·d inputs instead (LAION's
later "PooledEmbeddingMLP": mean, min, max and std over frames, concatenated) load too.
`.pth` files are read with torch.load(weights_only=True), never unpickled freely;
`.safetensors` copies of the same state dict are read as they are.

All heads of one shape are stacked: one matrix product projects the shared embedding for
every head at once, and each further layer is one batched product over the heads. The
embedding is computed once per clip, whatever the number of heads.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxeval.adapters.seed_files import checked_file
from voxeval.errors import VoxevalError

HEAD_FILE = re.compile(r"^model_(?P<name>.+?)(?:_best)?\.(?P<ext>pth|pt|safetensors)$")
COMPILED_PREFIX = "_orig_mod."
LAYOUT_HINT = (
    "Expected LAION's FullEmbeddingMLP state dict (proj.weight, proj.bias, then "
    "mlp.2/5/8/....weight and .bias ending in one output), as in "
    "laion/Empathic-Insight-Voice-Small/-Large."
)
# Task dimension → the head that measures it, when the names differ.
ALIASES = {"dominance": "submissive vs dominant"}


@dataclass(frozen=True)
class HeadSpec:
    """Shapes of one head: its input width, projection width and (out, in) of each layer."""

    in_dim: int
    proj: int
    layers: tuple[tuple[int, int], ...]

    @property
    def parameters(self) -> int:
        """Weights and biases of the head."""
        sizes = [(self.proj, self.in_dim), *self.layers]
        return sum(o * i + o for o, i in sizes)


def dimension_key(name: str) -> str:
    """A spelling-insensitive key: 'Jealousy_&_Envy' and 'Jealousy & Envy' meet."""
    text = urllib.parse.unquote(str(name)).lower().replace("&", " and ")
    return " ".join(re.findall(r"[a-z0-9]+", text))


def find_heads(folder: Path, root: Path) -> dict[str, Path]:
    """{dimension name: file} of the head files in `folder` (none is an error)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        match = HEAD_FILE.match(path.name)
        if not match:
            continue
        name = match.group("name")
        if name in found:
            raise VoxevalError(
                f"Two head files for {name!r} in {folder}: {found[name].name} and "
                f"{path.name}. Keep one."
            )
        found[name] = checked_file(path, root)
    if not found:
        raise VoxevalError(
            f"No head files in {folder}: expected model_<Dimension>_best.pth files (the "
            "layout of laion/Empathic-Insight-Voice-Small/-Large). Point model= at the folder "
            "holding them."
        )
    return found


def match_dimensions(
    heads: Iterable[str], wanted: list[str] | None, user_map: dict[str, str]
) -> dict[str, str]:
    """{task dimension: head name}: label_map first, then same key, then ALIASES."""
    by_key = {dimension_key(h): h for h in heads}
    unknown = [h for h in user_map if dimension_key(h) not in by_key]
    if unknown:
        raise VoxevalError(
            f"label_map names heads {', '.join(map(repr, unknown))} that the folder does not "
            f"have. Heads: {', '.join(sorted(by_key.values()))}."
        )
    if not wanted:
        return {h: h for h in by_key.values()}
    chosen = {dimension_key(t): by_key[dimension_key(h)] for h, t in user_map.items() if t}
    out, missing = {}, []
    for label in wanted:
        key = dimension_key(label)
        head = chosen.get(key) or by_key.get(key) or by_key.get(ALIASES.get(key, ""))
        if head is None:
            missing.append(label)
        else:
            out[label] = head
    if missing:
        raise VoxevalError(
            f"No head for {', '.join(map(repr, missing))}. Heads in the folder: "
            f"{', '.join(sorted(by_key.values()))}. Map one with "
            "label_map='Head_Name:task dimension;...'."
        )
    return out


def read_state(path: Path) -> dict[str, Any]:
    """A head's tensors, `_orig_mod.` prefixes stripped; never an unrestricted unpickle."""
    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:  # a legacy (non-zip) checkpoint cannot be memory-mapped
            state = _load_plain(path)
        except Exception as exc:
            raise _unsafe(path, exc) from None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise VoxevalError(f"{path.name}: not a state dict of tensors. {LAYOUT_HINT}")
    return {k.removeprefix(COMPILED_PREFIX): v for k, v in state.items()}


def _load_plain(path: Path) -> Any:
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise _unsafe(path, exc) from None


def _unsafe(path: Path, exc: BaseException) -> VoxevalError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return VoxevalError(
        f"{path.name} does not load as plain tensors with torch.load(weights_only=True) "
        f"({first}); it is not unpickled any other way. Re-save it as a state dict, or as "
        "model_<Dimension>_best.safetensors."
    )


def head_spec(path: Path, state: dict[str, Any]) -> HeadSpec:
    """The shapes of one head's state dict, checked against LAION's MLP layout."""
    problem = _layout_problem(state)
    if problem:
        raise VoxevalError(f"{path.name}: {problem}. {LAYOUT_HINT}")
    proj = state["proj.weight"]
    order = sorted(int(k.split(".")[1]) for k in state if k.endswith(".weight") and "mlp." in k)
    layers = tuple(tuple(state[f"mlp.{i}.weight"].shape) for i in order)
    return HeadSpec(int(proj.shape[1]), int(proj.shape[0]), layers)  # type: ignore[arg-type]


def _layout_problem(state: dict[str, Any]) -> str | None:
    """What is wrong with a head's keys or shapes, or None."""
    stray = [k for k in state if not re.fullmatch(r"(proj|mlp\.\d+)\.(weight|bias)", k)]
    if stray or "proj.weight" not in state or "proj.bias" not in state:
        return f"unexpected keys {stray[:4]}" if stray else "no proj.weight/proj.bias"
    idx = sorted({int(k.split(".")[1]) for k in state if k.startswith("mlp.")})
    if not idx or idx != list(range(2, 3 * len(idx) + 2, 3)):
        return f"linear layers at mlp indices {idx}, not 2, 5, 8, ..."
    width = state["proj.weight"].shape[0]
    for i in idx:
        weight, bias = state.get(f"mlp.{i}.weight"), state.get(f"mlp.{i}.bias")
        if weight is None or bias is None or weight.ndim != 2 or weight.shape[1] != width:
            return f"mlp.{i} does not take the {width} outputs of the layer before it"
        if tuple(bias.shape) != (weight.shape[0],):
            return f"mlp.{i}.bias has shape {tuple(bias.shape)}"
        width = weight.shape[0]
    if width != 1:
        return f"the last layer has {width} outputs, not 1"
    if tuple(state["proj.bias"].shape) != (state["proj.weight"].shape[0],):
        return "proj.bias does not match proj.weight"
    return None


def input_kind(spec: HeadSpec, frames: int, width: int, path: Path) -> str:
    """'flatten' (frames·width inputs) or 'stats' (4·width); other widths are an error."""
    if spec.in_dim == frames * width:
        return "flatten"
    if spec.in_dim == 4 * width:
        return "stats"
    raise VoxevalError(
        f"{path.name}: its projection takes {spec.in_dim} inputs, but the encoder gives "
        f"{frames} frames × {width} = {frames * width} (flattened) or {4 * width} (pooled "
        "mean/min/max/std). The heads were trained on another encoder: pass the encoder "
        "their model card names (encoder=...)."
    )


def build_bank(
    heads: list[tuple[str, HeadSpec, str, Callable[[], dict[str, Any]]]],
    dtype: Any,
    device: Any,
) -> Any:
    """A HeadBank over (name, spec, input kind, state loader) tuples, grouped by shape."""
    import torch

    groups: dict[tuple[HeadSpec, str], list] = {}
    for name, spec, kind, loader in heads:
        groups.setdefault((spec, kind), []).append((name, loader))
    bank = []
    for (spec, kind), members in groups.items():
        count = len(members)
        empty = lambda *shape: torch.empty(*shape, dtype=dtype, device=device)  # noqa: E731
        w0, b0 = empty(count * spec.proj, spec.in_dim), empty(count * spec.proj)
        layers = [(empty(count, o, i), empty(count, o)) for o, i in spec.layers]
        for h, (_, loader) in enumerate(members):
            state = loader()  # one head in memory at a time, copied into the stacks
            rows = slice(h * spec.proj, (h + 1) * spec.proj)
            w0[rows].copy_(state["proj.weight"])
            b0[rows].copy_(state["proj.bias"])
            keys = sorted((k for k in state if k.startswith("mlp.")), key=_layer_order)
            for (w, b), wk, bk in zip(layers, keys[1::2], keys[0::2], strict=True):
                w[h].copy_(state[wk])
                b[h].copy_(state[bk])
            del state
        bank.append(_Group([n for n, _ in members], kind, spec.proj, w0, b0, layers))
    return HeadBank(bank)


def _layer_order(key: str) -> tuple[int, str]:
    return int(key.split(".")[1]), key.rsplit(".", 1)[1]  # bias sorts before weight


@dataclass
class _Group:
    """Stacked weights of heads that share one shape and one input kind."""

    names: list[str]
    kind: str
    proj: int
    w0: Any  # (heads·proj, in)
    b0: Any  # (heads·proj,)
    layers: list[tuple[Any, Any]]  # (heads, out, in), (heads, out)


class HeadBank:
    """Every loaded head, run together on one shared encoder output."""

    def __init__(self, groups: list[_Group]) -> None:
        self.groups = groups
        self.names = [n for g in groups for n in g.names]

    @property
    def parameters(self) -> int:
        """Weights and biases of all heads."""
        tensors = [t for g in self.groups for t in (g.w0, g.b0, *(x for p in g.layers for x in p))]
        return sum(int(t.numel()) for t in tensors)

    @property
    def kinds(self) -> dict[str, str]:
        """{head: 'flatten' | 'stats'}."""
        return {n: g.kind for g in self.groups for n in g.names}

    def __call__(self, hidden: Any) -> dict[str, Any]:
        """{head: (batch,) outputs} for an encoder output of shape (batch, frames, width)."""
        import torch

        hidden = hidden.to(self.groups[0].w0.dtype) if self.groups else hidden
        inputs = {"flatten": hidden.flatten(1)} if any(g.kind == "flatten" for g in self) else {}
        if any(g.kind == "stats" for g in self):
            inputs["stats"] = torch.cat(
                [hidden.mean(1), hidden.amin(1), hidden.amax(1), hidden.std(1)], dim=1
            )
        out = {}
        for g in self.groups:
            z = torch.addmm(g.b0, inputs[g.kind], g.w0.t())
            z = z.view(z.shape[0], len(g.names), g.proj).relu()
            for k, (w, b) in enumerate(g.layers):
                z = torch.einsum("bhi,hoi->bho", z, w) + b
                z = z.relu() if k < len(g.layers) - 1 else z
            out.update(zip(g.names, z[..., 0].unbind(1), strict=True))
        return out

    def __iter__(self) -> Any:
        return iter(self.groups)
