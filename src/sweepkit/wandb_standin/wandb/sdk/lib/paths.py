"""``wandb.sdk.lib.paths`` in sweepkit's stand-in: the path type names W&B's modules annotate with."""

import os
from typing import Union

StrPath = Union[str, "os.PathLike[str]"]
FilePathStr = str
URIStr = str
LogicalPath = str

__all__ = ["FilePathStr", "LogicalPath", "StrPath", "URIStr"]
