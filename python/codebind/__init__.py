"""codebind — CodeBind multimodal alignment from Python.

The C++ core (quantiser kernels, ImageBind-architecture encoders, code index, trainer) behind
a small Python surface; tensors are ``torch.Tensor`` both ways and are not copied.

    >>> import codebind
    >>> model = codebind.load("runs/codebind")              # a `codebind train` run
    >>> out = model.embed("audio", ["dog.wav", "rain.wav"])  # dict of tensors
    >>> out["shared"].shape, out["shared_codes"].dtype
    >>> index = codebind.Index.build(model, "data/")         # every item of a dataset
    >>> index.search(model, text=["a dog barking"], k=5)

Errors in the input (a missing file, a bad config key, an unknown modality) raise
:class:`codebind.InputError` with the same one-line message the command line prints.
"""
import torch  # noqa: F401  (loads libtorch before the native module, which links the same libraries)

from ._codebind import InputError, __version__, read_safetensors, set_threads  # noqa: F401
from ._model import Model, load  # noqa: F401
from ._quantiser import MultimodalQuantiser, QuantiserOutput  # noqa: F401
from ._index import Index  # noqa: F401
from ._jobs import evaluate, train  # noqa: F401
from . import data  # noqa: F401

__all__ = ["InputError", "Model", "load", "MultimodalQuantiser", "QuantiserOutput", "Index", "train", "evaluate",
           "data", "read_safetensors", "set_threads", "__version__"]
