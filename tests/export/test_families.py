"""One model per layer family: the export passes onnx's full checker and onnxruntime's
output on raw inputs equals `nnrun predict`'s."""

from __future__ import annotations

import pytest

from tests.export.helpers import assert_exports_like_predict, experiment

DIGITS = "data: {dataset: digits, split: {val: 0.1, test: 0.2}, normalize: standard}"
DIGITS_IMAGE = (
    "data: {dataset: digits, reshape: [1, 8, 8], split: {val: 0.1, test: 0.2}, normalize: standard}"
)
DIGITS_SIGNAL = (
    "data: {dataset: digits, reshape: [4, 16], split: {val: 0.1, test: 0.2}, normalize: minmax}"
)
SORT = "data: {dataset: sort, params: {n_samples: 64, seq_len: 8, vocab_size: 10}}"
PARITY = (
    "data: {dataset: parity, params: {n_samples: 64, n_bits: 6}, reshape: [6, 1], normalize: none}"
)

MODELS = {
    "linear_and_activations": f"""
        {DIGITS}
        model:
          layers:
            - {{type: linear, units: 24, activation: tanh}}
            - {{type: linear, units: 24, activation: {{type: leaky_relu, negative_slope: 0.2}}}}
            - sigmoid
            - {{type: linear, units: 24}}
            - elu
            - {{type: linear, units: 24, activation: selu}}
            - gelu
            - {{type: gelu, approximate: tanh}}
            - {{type: linear, units: 24, activation: silu}}
            - {{type: softplus, beta: 2.0, threshold: 1.0}}
            - softsign
            - {{type: linear, units: 24, activation: hardtanh}}
            - {{type: hardtanh, min_val: -0.5, max_val: 2.0}}
            - hard_sigmoid
            - {{type: softmax, dim: 1}}
            - {{type: linear, units: 24, bias: false}}
            - identity
            - relu
            - {{type: linear, units: 10}}
    """,
    "lecture_activations": f"""
        {DIGITS}
        model:
          layers:
            - {{type: linear, units: 24, activation: sinusoid}}
            - {{type: linear, units: 24}}
            - sinc
            - {{type: linear, units: 24, activation: gaussian}}
            - {{type: linear, units: 24}}
            - {{type: polynomial, coefficients: [0.5, -1.0, 0.25, 0.125]}}
            - {{type: linear, units: 24}}
            - sign_ste
            - {{type: linear, units: 24}}
            - sign
            - {{type: linear, units: 10}}
            - log_softmax
        loss: nll
    """,
    "conv2d_pools_norms_padding": f"""
        {DIGITS_IMAGE}
        model:
          layers:
            - {{type: conv2d, out_channels: 8, kernel_size: 3, padding: same, activation: relu}}
            - {{type: batch_norm2d}}
            - {{type: conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: 1, groups: 2}}
            - {{type: group_norm, num_groups: 2}}
            - {{type: dropout2d, p: 0.3}}
            - {{type: conv_transpose2d, out_channels: 6, kernel_size: 3, stride: 2, padding: 1,
                output_padding: 1, activation: gelu}}
            - {{type: zero_pad2d, padding: [1, 0, 0, 1]}}
            - {{type: max_pool2d, kernel_size: 3, stride: 1, padding: 1}}
            - {{type: reflection_pad, padding: 1}}
            - {{type: avg_pool2d, kernel_size: 2, padding: 1, count_include_pad: false}}
            - {{type: replication_pad, padding: [0, 1, 1, 0]}}
            - {{type: constant_pad, padding: 1, value: 0.5}}
            - {{type: upsample, scale_factor: 2}}
            - {{type: adaptive_avg_pool2d, output_size: [5, 3]}}
            - {{type: conv2d, out_channels: 4, kernel_size: 2, dilation: 2, padding: valid}}
            - {{type: max_pool2d, kernel_size: 1, dilation: 1}}
            - {{type: global_avg_pool, keepdims: true}}
            - flatten
            - {{type: linear, units: 10}}
    """,
    "conv1d_pools_norms": f"""
        {DIGITS_SIGNAL}
        model:
          layers:
            - {{type: conv1d, out_channels: 6, kernel_size: 3, padding: 2, dilation: 2}}
            - {{type: batch_norm1d}}
            - relu
            - {{type: max_pool1d, kernel_size: 2}}
            - {{type: conv_transpose1d, out_channels: 5, kernel_size: 4, stride: 2}}
            - {{type: dropout1d, p: 0.2}}
            - {{type: avg_pool1d, kernel_size: 3, stride: 2}}
            - {{type: adaptive_avg_pool1d, output_size: 4}}
            - {{type: layer_norm}}
            - {{type: batch_norm1d, track_running_stats: false}}
            - {{type: upsample, size: 7}}
            - {{type: global_avg_pool}}
            - {{type: batch_norm1d, affine: false}}
            - {{type: linear, units: 10}}
    """,
    "embedding_lstm_bidirectional_sequence": f"""
        {SORT}
        model:
          layers:
            - {{type: embedding, num_embeddings: 10, embedding_dim: 8}}
            - {{type: lstm, hidden_size: 6, num_layers: 2, bidirectional: true, dropout: 0.2}}
            - {{type: linear, units: 10}}
        loss: {{type: cross_entropy, class_dim: -1}}
    """,
    "gru_rnn_last": f"""
        {PARITY}
        model:
          layers:
            - {{type: rnn, hidden_size: 5, nonlinearity: relu}}
            - {{type: rnn, hidden_size: 5, bidirectional: true, bias: false}}
            - {{type: gru, hidden_size: 4, bidirectional: true, output: last}}
            - {{type: linear, units: 2}}
    """,
    "lstm_last_time_major": f"""
        {PARITY}
        model:
          layers:
            - {{type: permute, dims: [1, 0, 2]}}
            - {{type: lstm, hidden_size: 5, batch_first: false}}
            - {{type: gru, hidden_size: 3, batch_first: false, num_layers: 2}}
            - {{type: transpose, dim0: 0, dim1: 1}}
            - {{type: lstm, hidden_size: 4, output: last, bidirectional: true}}
            - {{type: linear, units: 2}}
    """,
    "transformer_encoder": f"""
        {SORT}
        model:
          layers:
            - {{type: embedding, num_embeddings: 10, embedding_dim: 16}}
            - {{type: positional_encoding, kind: sinusoidal, max_len: 32}}
            - {{type: transformer_encoder, num_layers: 2, nhead: 4, dim_feedforward: 24,
                norm_first: true, norm: true}}
            - {{type: transformer_encoder_layer, nhead: 2, dim_feedforward: 20,
                activation: gelu, causal: true}}
            - {{type: multihead_attention, num_heads: 4, causal: true}}
            - {{type: scaled_dot_product_attention, causal: true, scale: 0.3}}
            - {{type: linear, units: 10}}
        loss: {{type: cross_entropy, class_dim: -1}}
    """,
    "transformer_decoder_graph": f"""
        {SORT}
        model:
          inputs: [tokens]
          nodes:
            embed: {{type: embedding, num_embeddings: 10, embedding_dim: 8, in: tokens}}
            position: {{type: positional_encoding, kind: learned, max_len: 16, in: embed}}
            memory: {{type: transformer_encoder_layer, nhead: 2, dim_feedforward: 16,
                      in: position}}
            decoded: {{type: transformer_decoder_layer, nhead: 2, dim_feedforward: 16,
                       causal: true, in: [position, memory]}}
            again: {{type: transformer_decoder_layer, nhead: 4, dim_feedforward: 12,
                     norm_first: true, in: [decoded, memory]}}
            cross: {{type: multihead_attention, num_heads: 2, in: [again, memory]}}
            logits: {{type: linear, units: 10, in: cross}}
          output: logits
        loss: {{type: cross_entropy, class_dim: -1}}
    """,
    "graph_merges_shapes_shared_weights": f"""
        {DIGITS}
        model:
          inputs: [x]
          nodes:
            h: {{type: linear, units: 16, activation: relu, in: x}}
            g: {{type: linear, units: 16, in: h}}
            g2: {{share: g, in: g}}
            sum: {{type: add, in: [h, g, g2]}}
            gate: {{type: multiply, in: [sum, h]}}
            avg: {{type: mean, in: [sum, gate]}}
            both: {{type: concat, in: [avg, gate]}}
            grid: {{type: reshape, shape: [4, 8], in: both}}
            swapped: {{type: transpose, in: grid}}
            square: {{type: matmul, in: [grid, swapped]}}
            turned: {{type: permute, dims: [0, 2, 1], in: square}}
            rows: {{type: index, index: [":", "1:3", "::-1"], in: turned}}
            row: {{type: index, index: ["...", 0, null], in: rows}}
            flat: {{type: flatten, in: row}}
            out: {{type: linear, units: 10, in: flat}}
          output: out
    """,
    "distances_regression": """
        data: {dataset: diabetes, split: {val: 0.1, test: 0.2}, normalize: standard}
        model:
          inputs: [x]
          nodes:
            a: {type: linear, units: 6, in: x}
            b: {type: linear, units: 6, activation: tanh, in: x}
            l2: {type: pairwise_distance, keepdim: true, in: [a, b]}
            l1: {type: pairwise_distance, p: 1, keepdim: true, in: [a, b]}
            linf: {type: pairwise_distance, p: .inf, keepdim: true, in: [a, b]}
            l3: {type: pairwise_distance, p: 3, keepdim: true, in: [a, b]}
            cos: {type: cosine_similarity, in: [a, b]}
            cos2: {type: index, index: [":", null], in: cos}
            all: {type: concat, in: [l2, l1, linf, l3, cos2]}
            out: {type: linear, units: 1, bias_init: {type: constant, value: 150.0}, in: all}
          output: out
    """,
    "binary_logits": """
        data: {dataset: breast_cancer, split: {val: 0.1, test: 0.2}, normalize: standard}
        model:
          layers:
            - {type: linear, units: 8, activation: relu}
            - {type: linear, units: 1}
    """,
    "binary_probabilities": """
        data: {dataset: breast_cancer, split: {val: 0.1, test: 0.2}, normalize: minmax}
        model:
          layers:
            - {type: linear, units: 1, activation: sigmoid}
        loss: binary_cross_entropy
    """,
}


@pytest.mark.parametrize("family", list(MODELS))
def test_export_matches_predict(tmp_path, family):
    exp = experiment(tmp_path, MODELS[family])
    assert_exports_like_predict(exp)
