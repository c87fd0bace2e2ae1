"""ONNX export of trained runs (`nnrun export`); needs the optional `export` extra (onnx).

`build` assembles the model: preprocessing, the layers (one converter per layer class, in
the family modules `linear`, `conv`, `pooling`, `normalization`, `embedding`, `recurrent`,
`attention`, `shape`, `activation`, `model`), decoding. Import `nnrun.export.build` only
after checking that onnx is installed.
"""
