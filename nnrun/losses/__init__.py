"""Losses, registered in `nnrun.registry.LOSSES` by their YAML names.

Each is a class: the constructor's keyword options are the YAML schema, and calling it
returns the loss Tensor: ``loss(prediction, target)`` (``loss(input1, input2, target)`` for
margin_ranking and cosine_embedding, ``loss(anchor, positive, negative)`` for
triplet_margin; `Loss.inputs` names the arguments). Class hints for the trainer: `task`
(classification, binary, regression, ranking, embedding, distribution) and `output` (what
the model's output means: logits, probabilities, log_probabilities, scores, values,
embeddings). Formulas, options and defaults are torch.nn.functional's; stricter than torch,
a target whose shape does not fit the prediction raises ShapeError instead of broadcasting.
"""

from nnrun.losses.base import Loss
from nnrun.losses.classification import (
    NLL,
    BCEWithLogits,
    BinaryCrossEntropy,
    CrossEntropy,
    Hinge,
    MultiMargin,
)
from nnrun.losses.distribution import KLDiv
from nnrun.losses.embedding import CosineEmbedding, MarginRanking, TripletMargin
from nnrun.losses.regression import L1, MSE, Huber, SmoothL1

__all__ = [
    "L1",
    "MSE",
    "NLL",
    "BCEWithLogits",
    "BinaryCrossEntropy",
    "CosineEmbedding",
    "CrossEntropy",
    "Hinge",
    "Huber",
    "KLDiv",
    "Loss",
    "MarginRanking",
    "MultiMargin",
    "SmoothL1",
    "TripletMargin",
]
