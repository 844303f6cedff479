#!/usr/bin/env python3
"""Validates N-Quads files against SHACL shapes with pyshacl, in one process.

Usage: shacl-validate.py --shapes A.ttl [--shapes B.ttl ...] [--ontology O.ttl] DATA.nq ...
Every data file is validated on its own (the shapes are parsed once). Prints one line per
file and, for a file that does not conform, pyshacl's report. Exit 0 when every file
conforms, 1 otherwise, 2 on a usage or parse error.
"""
import argparse
import sys

import pyshacl
from rdflib import Dataset, Graph
from rdflib.namespace import SH


def python_regex(shapes: Graph) -> None:
    """Rewrites the shapes' Java-style patterns into Python's `re` syntax, same meaning.

    LOQ-constraints.ttl has `^(?i)...` (Python wants global flags first) and
    `\\p{L}\\p{Nl}\\p{Nd}` inside a character class (Python's `re` has no `\\p`; with
    Unicode strings `\\w` matches letters, digits and the connector `_`).
    """
    from rdflib import Literal

    for s, p, o in list(shapes.triples((None, SH.pattern, None))):
        text = str(o)
        new = text
        if new.startswith("^(?i)"):
            new = "(?i)^" + new[len("^(?i)"):]
        new = new.replace("\\p{L}\\p{Nl}\\p{Nd}", "\\w")
        if new != text:
            shapes.remove((s, p, o))
            shapes.add((s, p, Literal(new, datatype=o.datatype, lang=o.language)))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", action="append", required=True)
    parser.add_argument("--ontology", action="append", default=[])
    parser.add_argument("data", nargs="+")
    args = parser.parse_args()
    shapes = Graph()
    for path in args.shapes:
        shapes.parse(path, format="turtle")
    python_regex(shapes)
    ontology = None
    if args.ontology:
        ontology = Graph()
        for path in args.ontology:
            ontology.parse(path, format="turtle")
    failed = 0
    for path in args.data:
        dataset = Dataset()
        dataset.parse(path, format="nquads")
        data = Graph()
        for s, p, o, _g in dataset.quads((None, None, None, None)):
            data.add((s, p, o))
        conforms, report, text = pyshacl.validate(
            data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True
        )
        if conforms:
            print(f"conforms: {path}")
        else:
            failed += 1
            print(f"DOES NOT CONFORM: {path}\n{text}")
    print(f"{len(args.data) - failed} of {len(args.data)} conform")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
