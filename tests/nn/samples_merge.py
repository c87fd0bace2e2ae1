"""Gradcheck samples for the graph-form merge and tensor-operation nodes (nnrun/nn/merge.py)."""

from tests.nn.samples import LayerSample, rand

LAYER_SAMPLES = {
    "add": [
        LayerSample({}, [rand(2, 3), rand(2, 3, seed=1)]),
        LayerSample({}, [rand(2, 3), rand(3, seed=1), rand(2, 1, seed=2)], id="add-3-bcast"),
    ],
    "multiply": [LayerSample({}, [rand(2, 3), rand(2, 3, seed=1)])],
    "mean": [LayerSample({}, [rand(2, 3), rand(2, 3, seed=1), rand(2, 3, seed=2)])],
    "concat": [
        LayerSample({}, [rand(2, 3), rand(2, 2, seed=1)]),
        LayerSample({"dim": 1}, [rand(2, 1, 4), rand(2, 3, 4, seed=1)], id="concat-dim1"),
    ],
    "matmul": [LayerSample({}, [rand(2, 3, 4), rand(2, 4, 5, seed=1)])],
    "transpose": [LayerSample({"dim0": 1, "dim1": 2}, [rand(2, 3, 4)])],
    "permute": [LayerSample({"dims": [0, 2, 1]}, [rand(2, 3, 4)])],
    "index": [
        LayerSample({"index": [":", -1]}, [rand(2, 3, 4)]),
        LayerSample({"index": ["...", "1:3"]}, [rand(2, 4)], id="index-slice"),
    ],
}
