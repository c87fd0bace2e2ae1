"""Gradcheck samples for convolution, pooling, padding, upsampling, normalization and
channel-dropout layers (small sizes: N=2, C=3, 5×5-ish)."""

from __future__ import annotations

from tests.nn.samples import LayerSample, away_from_kinks, rand


def _img(*shape: int, seed: int = 0):
    return rand(*shape, seed=seed)


LAYER_SAMPLES: dict[str, list[LayerSample]] = {
    "conv2d": [
        LayerSample({"out_channels": 4, "kernel_size": 3}, [_img(2, 3, 5, 5)], id="plain"),
        LayerSample(
            {"out_channels": 4, "kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 2]},
            [_img(2, 3, 5, 6, seed=1)],
            id="stride-padding",
        ),
        LayerSample(
            {"out_channels": 6, "kernel_size": 3, "dilation": 2, "groups": 3, "bias": False},
            [_img(2, 3, 6, 5, seed=2)],
            id="dilation-groups",
        ),
        LayerSample(
            {"out_channels": 2, "kernel_size": [2, 3], "padding": "same", "activation": "tanh"},
            [_img(2, 3, 4, 5, seed=3)],
            id="same-tanh",
        ),
        LayerSample(
            {"out_channels": 3, "kernel_size": 2, "activation": "relu", "bias_init": "ones"},
            [away_from_kinks(2, 2, 4, 4, seed=4) * 0.3],
            id="fused-relu",
        ),
    ],
    "conv1d": [
        LayerSample({"out_channels": 4, "kernel_size": 3}, [_img(2, 3, 7)], id="plain"),
        LayerSample(
            {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 2, "groups": 2},
            [_img(2, 4, 7, seed=1)],
            id="stride-groups",
        ),
        LayerSample(
            {"out_channels": 2, "kernel_size": 4, "padding": "same", "dilation": 2},
            [_img(2, 3, 6, seed=2)],
            id="same-dilation",
        ),
    ],
    "conv_transpose2d": [
        LayerSample({"out_channels": 4, "kernel_size": 3}, [_img(2, 3, 4, 4)], id="plain"),
        LayerSample(
            {
                "out_channels": 4,
                "kernel_size": [3, 2],
                "stride": [2, 3],
                "padding": [1, 0],
                "output_padding": [1, 2],
                "groups": 2,
            },
            [_img(2, 4, 3, 3, seed=1)],
            id="stride-output-padding-groups",
        ),
        LayerSample(
            {"out_channels": 2, "kernel_size": 2, "dilation": 2, "bias": False},
            [_img(2, 3, 3, 4, seed=2)],
            id="dilation",
        ),
    ],
    "conv_transpose1d": [
        LayerSample(
            {"out_channels": 3, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1},
            [_img(2, 2, 5)],
        ),
    ],
    "max_pool2d": [
        LayerSample({"kernel_size": 2}, [_img(2, 3, 5, 5)], id="tiling"),
        LayerSample(
            {"kernel_size": 3, "stride": 1, "padding": 1}, [_img(2, 3, 5, 5, seed=1)], id="overlap"
        ),
        LayerSample(
            {"kernel_size": [2, 3], "stride": 2, "dilation": [2, 1]},
            [_img(2, 3, 6, 7, seed=2)],
            id="dilation",
        ),
    ],
    "max_pool1d": [LayerSample({"kernel_size": 3, "stride": 2, "padding": 1}, [_img(2, 3, 7)])],
    "avg_pool2d": [
        LayerSample({"kernel_size": 2}, [_img(2, 3, 5, 5)], id="plain"),
        LayerSample(
            {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
            [_img(2, 3, 5, 6, seed=1)],
            id="exclude-pad",
        ),
    ],
    "avg_pool1d": [LayerSample({"kernel_size": 3, "stride": 1, "padding": 1}, [_img(2, 3, 6)])],
    "adaptive_avg_pool2d": [
        LayerSample({"output_size": [2, 3]}, [_img(2, 3, 5, 5)]),
        LayerSample({"output_size": [None, 2]}, [_img(2, 3, 4, 7, seed=1)], id="keep-axis"),
    ],
    "adaptive_avg_pool1d": [LayerSample({"output_size": 3}, [_img(2, 3, 7)])],
    "global_avg_pool": [
        LayerSample({}, [_img(2, 3, 4, 5)]),
        LayerSample({"keepdims": True}, [_img(2, 3, 6, seed=1)], id="1d-keepdims"),
    ],
    "zero_pad2d": [LayerSample({"padding": [1, 0, 2, 1]}, [_img(2, 3, 4, 4)])],
    "constant_pad": [
        LayerSample({"padding": [2, 1], "value": 0.5}, [_img(2, 3, 4)], id="1d"),
        LayerSample({"padding": 1, "value": -1.0}, [_img(2, 3, 3, 4, seed=1)], id="2d"),
    ],
    "reflection_pad": [
        LayerSample({"padding": [2, 1]}, [_img(2, 3, 4)], id="1d"),
        LayerSample({"padding": [1, 2, 2, 0]}, [_img(2, 3, 3, 4, seed=1)], id="2d"),
    ],
    "replication_pad": [
        LayerSample({"padding": 2}, [_img(2, 3, 3)], id="1d"),
        LayerSample({"padding": [0, 3, 1, 2]}, [_img(2, 3, 3, 4, seed=1)], id="2d"),
    ],
    "upsample": [
        LayerSample({"scale_factor": 2}, [_img(2, 3, 3, 4)], id="scale"),
        LayerSample({"size": [5, 7]}, [_img(2, 3, 3, 4, seed=1)], id="size"),
        LayerSample({"scale_factor": 3}, [_img(2, 3, 4, seed=2)], id="1d"),
    ],
    "batch_norm2d": [
        LayerSample({}, [_img(3, 3, 4, 4)], id="train"),
        LayerSample({"momentum": None}, [_img(3, 3, 4, 4, seed=1)], train=False, id="eval"),
        LayerSample(
            {"affine": False, "track_running_stats": False},
            [_img(2, 3, 3, 3, seed=2)],
            id="no-affine",
        ),
    ],
    "batch_norm1d": [
        LayerSample({}, [_img(6, 4)], id="2d-input"),
        LayerSample({}, [_img(3, 4, 5, seed=1)], id="3d-input"),
        LayerSample({}, [_img(3, 4, 5, seed=2)], train=False, id="eval"),
    ],
    "layer_norm": [
        LayerSample({}, [_img(2, 3, 5)], id="last-axis"),
        LayerSample({"normalized_shape": [3, 4]}, [_img(2, 3, 4, seed=1)], id="two-axes"),
        LayerSample({"bias": False}, [_img(4, 6, seed=2)], id="no-bias"),
        LayerSample({"elementwise_affine": False}, [_img(4, 6, seed=3)], id="no-affine"),
    ],
    "group_norm": [
        LayerSample({"num_groups": 2}, [_img(2, 4, 3, 3)], id="2d"),
        LayerSample({"num_groups": 3, "affine": False}, [_img(2, 6, 5, seed=1)], id="1d"),
    ],
    "dropout2d": [LayerSample({"p": 0.4}, [_img(4, 5, 3, 3)])],
    "dropout1d": [LayerSample({"p": 0.4}, [_img(4, 5, 3)])],
}


def compare_with_torch(layer, reference, x, train: bool = True, rtol=1e-10, atol=1e-12):
    """Build `layer` on x (unless built), load its state dict into the torch module
    `reference`, run both once in float64 and compare outputs, input gradients and
    parameter gradients.

    Returns (our output Tensor, torch output) for further checks.
    """
    import numpy as np
    import torch

    from nnrun.autograd.tensor import Tensor

    if not list(layer.parameters()) and not layer.state_dict():
        layer(x)  # lazy layers create their parameters on the first call
    layer.to(np.float64).train(train)
    layer.zero_grad()
    reference = reference.double().train(train)
    state = {k: torch.from_numpy(np.array(v)) for k, v in layer.state_dict().items()}
    reference.load_state_dict(state)
    reference.zero_grad()
    ours_x = Tensor(x, requires_grad=True, dtype=np.float64)
    ours = layer(ours_x)
    upstream = np.random.default_rng(123).standard_normal(ours.shape)
    ours.backward(upstream)
    torch_x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    theirs = reference(torch_x)
    theirs.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours_x.grad, torch_x.grad.numpy(), rtol=rtol, atol=atol)
    torch_params = dict(reference.named_parameters())
    for name, param in layer.named_parameters():
        expected = torch_params[name].grad.numpy()
        np.testing.assert_allclose(param.grad, expected, rtol=rtol, atol=atol, err_msg=name)
    return ours, theirs
