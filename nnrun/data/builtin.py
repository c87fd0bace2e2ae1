"""The shipped real datasets (files in datasets/; origins and licences in datasets/README.md)."""

from __future__ import annotations

from typing import Any, ClassVar

from nnrun.data.graph import read_graph_files
from nnrun.data.readers import read_csv, read_npz, read_text
from nnrun.data.sources import BuiltinDataset, GraphSource, TableSource, TextSource, datasets_dir
from nnrun.data.table import table_from_columns
from nnrun.registry import DATASETS


class ShippedCsv(BuiltinDataset):
    """A CSV in datasets/ with a header; the last column is the target."""

    file: ClassVar[str]
    classes: ClassVar[list[Any] | None] = None

    def __init__(self) -> None:
        """No parameters (an explicit signature, so `data.params` must stay empty)."""

    def load(self, seed: int) -> TableSource:
        columns = read_csv(datasets_dir() / self.file, header=True)
        return TableSource(
            {"all": table_from_columns(columns, None, None)}, self.task, self.classes
        )


@DATASETS.register("digits")
class Digits(ShippedCsv):
    file = "digits.csv.gz"
    task = "classification"
    description = "8x8 handwritten digits (UCI), pixel values 0-16; reshape: [1, 8, 8] for convs"
    input_shape = "(64,) or (1, 8, 8)"
    target = "10 classes"
    size = "1797"
    classes: ClassVar[list[Any] | None] = list(range(10))


@DATASETS.register("iris")
class Iris(ShippedCsv):
    file = "iris.csv"
    task = "classification"
    description = "Fisher's iris flowers: 4 measurements in cm, 3 species"
    input_shape = "(4,)"
    target = "3 classes"
    size = "150"
    classes: ClassVar[list[Any] | None] = ["setosa", "versicolor", "virginica"]


@DATASETS.register("wine")
class Wine(ShippedCsv):
    file = "wine.csv.gz"
    task = "classification"
    description = "UCI wine: 13 chemical measurements, 3 cultivars"
    input_shape = "(13,)"
    target = "3 classes"
    size = "178"
    classes: ClassVar[list[Any] | None] = ["class_0", "class_1", "class_2"]


@DATASETS.register("breast_cancer")
class BreastCancer(ShippedCsv):
    file = "breast_cancer.csv.gz"
    task = "binary"
    description = (
        "Wisconsin diagnostic breast cancer: 30 features; target 1 = benign, "
        "0 = malignant, shape (N, 1) float for bce_with_logits"
    )
    input_shape = "(30,)"
    target = "binary (malignant/benign)"
    size = "569"
    classes: ClassVar[list[Any] | None] = ["malignant", "benign"]


@DATASETS.register("diabetes")
class Diabetes(ShippedCsv):
    file = "diabetes.csv.gz"
    task = "regression"
    description = "Efron et al. diabetes: 10 raw (unscaled) features, disease progression"
    input_shape = "(10,)"
    target = "regression (N, 1), 25-346"
    size = "442"


@DATASETS.register("mnist1d")
class Mnist1d(BuiltinDataset):
    task = "classification"
    description = "MNIST-1D (Greydanus 2020): 1-D signals of 40 points; fixed test set of 1000"
    input_shape = "(40,)"
    target = "10 classes"
    size = "4000 + 1000 test"

    def __init__(self) -> None:
        """No parameters."""

    def load(self, seed: int) -> TableSource:
        parts = read_npz(datasets_dir() / "mnist1d.npz", None)
        return TableSource(parts, self.task, list(range(10)))


@DATASETS.register("shakespeare", "tiny_shakespeare")
class Shakespeare(BuiltinDataset):
    task = "sequence"
    description = (
        "Eight Shakespeare plays and the sonnets (~1M chars); next-token windows of "
        "seq_len, contiguous train/val/test blocks"
    )
    input_shape = "(seq_len,) int64"
    target = "next token, vocabulary from train"
    size = "~1.04M characters"

    def __init__(self) -> None:
        """No parameters (windows come from data.seq_len/stride/tokenizer)."""

    def load(self, seed: int) -> TextSource:
        path = datasets_dir() / "shakespeare.txt.gz"
        return TextSource(read_text(path), str(path))


@DATASETS.register("karate")
class Karate(BuiltinDataset):
    task = "node_classification"
    description = (
        "Zachary's karate club: 34 members, 78 friendships, 2 clubs; fixed split "
        "train = nodes 0 and 33, val = 4 10 19 22 26 29, test = the other 26"
    )
    input_shape = "(34,) one-hot node id"
    target = "2 classes"
    size = "34 nodes"

    def __init__(self) -> None:
        """No parameters (node features via data.graph.node_features)."""

    def load(self, seed: int) -> GraphSource:
        folder = datasets_dir() / "karate"
        return read_graph_files(
            folder / "edges.csv", folder / "labels.csv", masks=folder / "masks.csv"
        )
