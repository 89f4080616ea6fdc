#!/usr/bin/env python3
"""Embed a dataset with a trained CodeBind run, index its codes, and search them by text.

    PYTHONPATH=build/ci/python /usr/bin/python3 examples/python/embed_and_search.py RUN DATA "a dog barking"

(after `make python`, plain `python3 examples/python/embed_and_search.py ...`).
"""
import sys

import codebind


def main(run: str, data: str, query: str) -> None:
    model = codebind.load(run)
    print(model)
    index = codebind.Index.build(model, data)  # every item of every split, as codes
    print(f"{len(index)} items indexed")
    for hit in index.search(model, text=[query], k=5)[0]:
        print(f"{hit['score']:.3f}  {hit['modality']:<7} {hit['id']}  {hit['source']}")
    # Embeddings of a few files directly (dict of torch tensors; codes as int64).
    item = next(it for it in codebind.data.items(data, split="test") if it["modality"] != "text")
    out = model.embed(item["modality"], [item["file"]])
    print(item["id"], {k: tuple(v.shape) for k, v in out.items()})


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
