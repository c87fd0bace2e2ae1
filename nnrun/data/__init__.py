"""Data: built-in and user datasets -> splits, preprocessing and mini-batches."""

from nnrun.data.catalog import dataset_table
from nnrun.data.info import IGNORE_INDEX, DataBundle, DataInfo, Split
from nnrun.data.loader import BatchLoader
from nnrun.data.options import DATA_SPEC
from nnrun.data.pipeline import load_data
from nnrun.data.predict import read_inputs
from nnrun.data.preprocess import Preprocessor

__all__ = [
    "DATA_SPEC",
    "IGNORE_INDEX",
    "BatchLoader",
    "DataBundle",
    "DataInfo",
    "Preprocessor",
    "Split",
    "dataset_table",
    "load_data",
    "read_inputs",
]
