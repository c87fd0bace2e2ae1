"""TensorBoard event files, written with tensorboardX (no TensorFlow, no torch needed).

One scalar per logged value and epoch (step = epoch), the resolved config as text, and the
model's graph (its nodes and edges as the builder made them). A resumed run writes with a
purge step, so TensorBoard drops any events of epochs after the checkpoint it resumed from.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from nnrun.loggers.base import Logger, RunContext, require
from nnrun.registry import LOGGERS

EVENTS_DIR = "tensorboard"


@LOGGERS.register("tensorboard")
class TensorBoardLogger(Logger):
    """TensorBoard event files in ``<run>/tensorboard/`` (`log_dir`: under
    ``<log_dir>/<run path below output_dir>/`` instead); `graph`: also the model's graph."""

    def __init__(self, log_dir: str | None = None, graph: bool = True):
        require("tensorboardX", "tensorboard", "tensorboard")
        self.log_dir = log_dir
        self.graph = graph
        self.writer: Any = None

    def start(self, run: RunContext) -> None:
        path = (
            run.run_dir / EVENTS_DIR
            if self.log_dir is None
            else Path(self.log_dir) / run.relative_name()
        )
        resumed = run.resumed_from_epoch
        continued = resumed and path.is_dir()  # not a logger first added on resume
        self.writer = _summary_writer()(
            str(path),
            purge_step=resumed + 1 if resumed else None,
            # File names hold the time in whole seconds: a resume within the same second
            # must neither overwrite the first file nor sort before it.
            filename_suffix=f".from-epoch-{resumed:06d}",
        )
        if continued:
            return
        # Indented: TensorBoard renders text as Markdown, where indentation keeps YAML as is.
        self.writer.add_text("config", _indent(run.config_text), 0)
        if self.graph and run.graph is not None and run.graph.nodes:
            # The public add_graph traces a torch model; the file writer takes a GraphDef.
            self.writer._get_file_writer().add_onnx_graph(_graph_def(run.graph))
        self.writer.flush()

    def log_epoch(self, epoch: int, values: dict[str, float]) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, epoch)
        self.writer.flush()

    def end(self, summary: dict[str, Any]) -> None:
        if self.writer is not None:
            self.writer.close()


def _summary_writer() -> Any:
    """tensorboardX's SummaryWriter. tensorboardX imports torch whenever it is installed
    (seconds) only to accept torch tensors, which nnrun never passes: hide it meanwhile."""
    if "tensorboardX" in sys.modules or "torch" in sys.modules:
        from tensorboardX import SummaryWriter

        return SummaryWriter
    # None in sys.modules makes `import torch` fail (the import system's documented
    # convention; typeshed types the values as modules only).
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        from tensorboardX import SummaryWriter
    finally:
        del sys.modules["torch"]
    return SummaryWriter


def _indent(text: str) -> str:
    return "".join(f"    {line}" for line in text.splitlines(keepends=True))


def _graph_def(view: Any) -> Any:
    """A TensorBoard GraphDef of the builder's graph: one node per layer or graph node
    (op = its YAML type), inputs along the edges."""
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.node_def_pb2 import NodeDef
    from tensorboardX.proto.versions_pb2 import VersionDef

    inputs: dict[str, list[str]] = {}
    for source, target in view.edges:
        inputs.setdefault(target, []).append(source)
    nodes = [NodeDef(name=name, op=op, input=inputs.get(name, [])) for name, op, _ in view.nodes]
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
