"""Run a model's inference on a Ray cluster: actors that each load the model once.

Only inference leaves the driver. The driver keeps the run lock, decodes the audio, writes
every record and scores once, so workers need no shared filesystem and a run on Ray is the
same run folder, checkpoint and resume as a local one. The runner sees a proxy adapter:
`predict_stream` cuts the runner's batch into the real adapter's batches (the shards of the
work), Ray's ActorPool keeps every actor busy, and each answer is emitted (saved) the moment
its batch returns. A worker that dies is restarted by Ray and its batch retried
(max_restarts, max_task_retries); answers already saved are never asked for again, and a
crashed driver resumes the unfinished samples only.
"""

from __future__ import annotations

import atexit
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from voxeval.adapter import Adapter, Emit, TaskContext
from voxeval.errors import VoxevalError
from voxeval.types import ModelInput, Response

INSTALL_HINT = "pip install 'voxeval[ray]'"


class RayResources(BaseModel):
    """What one worker (actor) of a model asks the cluster for."""

    model_config = ConfigDict(extra="forbid")

    num_cpus: float = Field(1.0, ge=0, le=1024, description="CPU cores per worker")
    num_gpus: float = Field(0.0, ge=0, le=64, description="GPUs per worker (fractions share)")


Spec = tuple[type[Adapter], dict[str, Any]]  # an adapter class and its raw args


class _Worker:
    """A Ray actor process that holds one loaded model at a time.

    The process outlives a model: the next model of a suite loads into it (the process start
    is paid once). Every call names its model, so an actor that Ray restarted after a crash
    loads it again before answering the retried batch.
    """

    def __init__(self) -> None:
        self.spec: Spec | None = None
        self.adapter: Adapter | None = None

    def ensure(self, spec: Spec) -> Adapter:
        """The adapter of `spec`, loaded (closing another model first)."""
        if self.adapter is None or self.spec != spec:
            self.unload()
            adapter = spec[0].from_args(spec[1])
            adapter.load()
            self.spec, self.adapter = spec, adapter
        return self.adapter

    def info(self, spec: Spec) -> dict[str, Any]:
        """Load `spec`; its identity, as the adapter reports it."""
        return self.ensure(spec).model_info()

    def warmup(self, spec: Spec, example: ModelInput, task: TaskContext) -> None:
        """The adapter's own warm-up, so timed batches exclude first-call set-up."""
        self.ensure(spec).warmup(example, task)

    def predict(
        self, spec: Spec, start: int, batch: list[ModelInput], task: TaskContext
    ) -> tuple[int, list[Response], float]:
        """(start, answers, seconds) for one batch."""
        adapter = self.ensure(spec)
        began = time.perf_counter()
        answers = adapter.predict(batch, task)
        return start, answers, time.perf_counter() - began

    def unload(self) -> None:
        """Close the model (frees its GPU memory); the process stays for the next one."""
        if self.adapter is not None:
            self.adapter.close()
        self.spec = self.adapter = None


class RayPoolAdapter(Adapter):
    """An adapter whose predictions run on `workers` Ray actors of the wrapped adapter."""

    def __init__(
        self,
        inner: Adapter,
        workers: int,
        resources: RayResources | None = None,
        address: str | None = None,
        retries: int = 3,
        placement_timeout_s: float = 900.0,
    ) -> None:
        super().__init__(inner.args)
        self.inner, self.workers = inner, workers
        self.resources = resources or RayResources()
        self.address, self.retries = address, retries
        self.placement_timeout_s = placement_timeout_s  # model loading included
        # The runner reads these from the adapter it is handed: the wrapped one's answers.
        self.name, self.supports = inner.name, inner.supports
        self.Args, self.speed_args = inner.Args, inner.speed_args
        self.sampling_rate, self.needs_audio = inner.sampling_rate, inner.needs_audio
        self._actors: list[Any] = []
        self._info: dict[str, Any] = {}

    @property
    def batch_size(self) -> int:
        """Enough inputs per runner batch to keep every worker busy eight times over."""
        return self.inner.batch_size * self.workers * 8

    def prediction_args(self) -> dict[str, Any]:
        """The wrapped adapter's: where it runs never changes what it answers."""
        return self.inner.prediction_args()

    def load(self) -> None:
        """Join (or start) the Ray cluster, take workers from the pool, load the model."""
        if self._actors:
            return
        ray = _import_ray()
        _join(ray, self.address)
        self._actors = _POOL.take(ray, self.workers, self.resources, self.retries)
        infos = self._wait_for_workers(ray)
        self._info = {
            **infos[0],
            "executor": "ray",
            "workers": self.workers,
            "resources_per_worker": self.resources.model_dump(),
            "ray": ray.__version__,
        }

    @property
    def spec(self) -> Spec:
        """What a worker loads: the adapter's class and its arguments."""
        return type(self.inner), self.inner.args.model_dump()

    def _wait_for_workers(self, ray: Any) -> list[dict[str, Any]]:
        """Each worker's model info once loaded; a clear error if the cluster cannot place
        them all in time (Ray would otherwise wait for resources forever)."""
        refs = [a.info.remote(self.spec) for a in self._actors]
        ready, waiting = ray.wait(refs, num_returns=len(refs), timeout=self.placement_timeout_s)
        if waiting:
            asked = self.resources.model_dump()
            have = {k: v for k, v in ray.cluster_resources().items() if k in ("CPU", "GPU")}
            _POOL.discard(ray, self._actors)
            self._actors = []
            raise VoxevalError(
                f"Ray started {len(ready)} of {self.workers} workers of {self.name!r} within "
                f"{self.placement_timeout_s:g} s; each asks for {asked} and the cluster has "
                f"{have}. Use fewer shards, smaller resources, or a larger cluster."
            )
        return ray.get(refs)

    def model_info(self) -> dict[str, Any]:
        """The model's identity from a worker, plus how the work was spread."""
        return dict(self._info) if self._info else self.inner.model_info()

    def warmup(self, example: ModelInput, task: TaskContext) -> None:
        """Warm every worker up once."""
        ray = _import_ray()
        ray.get([a.warmup.remote(self.spec, example, task) for a in self._actors])

    def predict_stream(self, batch: list[ModelInput], task: TaskContext, emit: Emit) -> None:
        """Hand the real adapter's batches to the workers; emit answers as batches return."""
        from ray.util import ActorPool

        size = self.inner.batch_size
        pieces = [(start, batch[start : start + size]) for start in range(0, len(batch), size)]
        pool, spec = ActorPool(self._actors), self.spec
        jobs = pool.map_unordered(lambda a, p: a.predict.remote(spec, p[0], p[1], task), pieces)
        for start, answers, seconds in jobs:
            if len(answers) != len(pieces[start // size][1]):
                raise VoxevalError(
                    f"Adapter {self.name!r} returned {len(answers)} answers on a Ray worker "
                    f"for {len(pieces[start // size][1])} inputs."
                )
            for offset, answer in enumerate(answers):
                if answer.latency_s is None:  # the batch's time, shared: RTFx stays right
                    answer.latency_s = seconds / len(answers)
                emit(start + offset, answer)

    def close(self) -> None:
        """Unload the model on the workers; their processes stay for the suite's next model."""
        if not self._actors:
            return
        ray = _import_ray()
        ray.get([a.unload.remote() for a in self._actors])
        self._actors = []


class _ActorPool:
    """The driver's idle Ray workers, kept for the next model until the driver exits.

    Models run one after another, so only one resource shape is kept: a model asking for
    another shape replaces the workers.
    """

    def __init__(self) -> None:
        self.actors: dict[tuple[float, float], list[Any]] = {}
        self.job: Any = None  # the Ray connection they belong to

    def take(self, ray: Any, n: int, resources: RayResources, retries: int) -> list[Any]:
        """n workers of this shape, starting the ones missing."""
        job = ray.get_runtime_context().get_job_id()
        if job != self.job:  # a new connection (ray.init again): the old handles are dead
            self.actors.clear()
            self.job = job
        shape = (resources.num_cpus, resources.num_gpus)
        for other in [k for k in self.actors if k != shape]:
            # idle workers of another shape still hold their CPUs and GPUs: free them
            for actor in self.actors.pop(other):
                ray.kill(actor)
        have = self.actors.setdefault(shape, [])
        actor = ray.remote(
            num_cpus=resources.num_cpus,
            num_gpus=resources.num_gpus,
            max_restarts=retries,
            max_task_retries=retries,
        )(_Worker)
        have += [actor.remote() for _ in range(n - len(have))]
        return have[:n]

    def discard(self, ray: Any, actors: list[Any]) -> None:
        """Kill these workers (they could not all be placed)."""
        for shape, have in self.actors.items():
            self.actors[shape] = [a for a in have if a not in actors]
        for actor in actors:
            ray.kill(actor)

    def shutdown(self, ray: Any) -> None:
        """Kill every worker."""
        for have in self.actors.values():
            for actor in have:
                ray.kill(actor)
        self.actors.clear()


_POOL = _ActorPool()


def _join(ray: Any, address: str | None) -> None:
    """Connect to the cluster at `address`, or start a local one that lives until exit."""
    if ray.is_initialized():
        return
    ray.init(address=address, log_to_driver=False, include_dashboard=False)
    atexit.register(_finish, ray)


def _finish(ray: Any) -> None:
    """At exit: stop the workers, then leave (or stop) the cluster."""
    if ray.is_initialized():
        _POOL.shutdown(ray)
        ray.shutdown()


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise VoxevalError(
            f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}."
        ) from None
    return ray
