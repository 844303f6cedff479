#!/usr/bin/env python3
"""Check a BEM micro-credential catalogue (or one definition).

Usage:
    python3 schemas/validate-catalogue.py [CATALOGUE.json] [--schema FILE] [--cv FILE]
                                          [--strict] [--quiet]

CATALOGUE.json defaults to demo-catalogue.json beside this script. It may hold a JSON
array of definitions or a single definition object.

What is checked:
  1. the schema itself is a valid JSON Schema (draft 2020-12);
  2. every definition against micro-credential.schema.json, listing every problem;
  3. unique ids, and stackability.partOf[].catalogueId pointing at an id of the catalogue;
  4. every EU concept URI used (http://data.europa.eu/snb/... and
     http://publications.europa.eu/resource/authority/...) appears in the controlled
     vocabularies file, in the right scheme; likewise the URIs the issuer derives
     (EQF level -> http://data.europa.eu/snb/eqf/N, ECTS and ECVET frameworks) and the
     URIs listed in the schema's own enums; an nqfLevel URI must be a level of the QDR list
     (scheme 'nqf'), not one of the frameworks that list also holds, and the object form of
     nqfLevel (a framework the QDR does not list) must not name an EU concept as its id;
  5. the ISO alpha-2 country code and the EU country URI name the same country.
Warnings (not failures unless --strict): a course text that lacks a language of the title,
and a workload outside 20-35 hours per credit.

The controlled vocabularies file is looked for at --cv, then $BEM_CV_FILE, then
../../shared/reference/elm/cv/controlled-vocabularies.json relative to this script, then
/work/shared/reference/elm/cv/controlled-vocabularies.json. When none exists, check 4 is
skipped with a notice.

Exit status: 0 all good, 1 problems found, 2 usage error / unreadable file / jsonschema
missing.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, "micro-credential.schema.json")
DEFAULT_CATALOGUE = os.path.join(HERE, "demo-catalogue.json")
CV_CANDIDATES = [
    os.path.join(HERE, "..", "..", "shared", "reference", "elm", "cv", "controlled-vocabularies.json"),
    "/work/shared/reference/elm/cv/controlled-vocabularies.json",
]

EU_CONCEPT_PREFIXES = (
    "http://data.europa.eu/snb/",
    "http://publications.europa.eu/resource/authority/",
)
# Schemes that the controlled vocabularies file does not contain. URIs of these schemes
# cannot be checked against it; they are accepted only if the schema's enum allows them.
SCHEMES_NOT_IN_CV_FILE = ("http://data.europa.eu/snb/supervision-verification/",)

ECTS_URI = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
ECVET_URI = "http://data.europa.eu/snb/education-credit/60b314e826"

# Why a definition with an EQF level needs an NQF level (the schema's dependentRequired).
NQF_REQUIRED = ("nqfLevel is required with eqfLevel: the Europass course directory (LOQ) wants "
                "the national qualifications framework's level on every qualification. Give the "
                "level's URI from the QDR list (http://data.europa.eu/snb/qdr/c_...) or, when the "
                "country's framework is not in the QDR, "
                '{"framework": "<its official name>", "level": "<the level>"}')

# C0 and C1 control characters, refused in nqfLevel's framework and level.
CONTROL_CHARACTERS = {chr(c) for c in range(0x20)} | {chr(c) for c in range(0x7f, 0xa0)}

# ISO 3166-1 alpha-2 -> alpha-3 (from Debian iso-codes 4.15), as pairs "AAaaa".
_ISO_PAIRS = """
ADAND AEARE AFAFG AGATG AIAIA ALALB AMARM AOAGO AQATA ARARG ASASM ATAUT AUAUS AWABW AXALA AZAZE
BABIH BBBRB BDBGD BEBEL BFBFA BGBGR BHBHR BIBDI BJBEN BLBLM BMBMU BNBRN BOBOL BQBES BRBRA BSBHS
BTBTN BVBVT BWBWA BYBLR BZBLZ CACAN CCCCK CDCOD CFCAF CGCOG CHCHE CICIV CKCOK CLCHL CMCMR CNCHN
COCOL CRCRI CUCUB CVCPV CWCUW CXCXR CYCYP CZCZE DEDEU DJDJI DKDNK DMDMA DODOM DZDZA ECECU EEEST
EGEGY EHESH ERERI ESESP ETETH FIFIN FJFJI FKFLK FMFSM FOFRO FRFRA GAGAB GBGBR GDGRD GEGEO GFGUF
GGGGY GHGHA GIGIB GLGRL GMGMB GNGIN GPGLP GQGNQ GRGRC GSSGS GTGTM GUGUM GWGNB GYGUY HKHKG HMHMD
HNHND HRHRV HTHTI HUHUN IDIDN IEIRL ILISR IMIMN ININD IOIOT IQIRQ IRIRN ISISL ITITA JEJEY JMJAM
JOJOR JPJPN KEKEN KGKGZ KHKHM KIKIR KMCOM KNKNA KPPRK KRKOR KWKWT KYCYM KZKAZ LALAO LBLBN LCLCA
LILIE LKLKA LRLBR LSLSO LTLTU LULUX LVLVA LYLBY MAMAR MCMCO MDMDA MEMNE MFMAF MGMDG MHMHL MKMKD
MLMLI MMMMR MNMNG MOMAC MPMNP MQMTQ MRMRT MSMSR MTMLT MUMUS MVMDV MWMWI MXMEX MYMYS MZMOZ NANAM
NCNCL NENER NFNFK NGNGA NINIC NLNLD NONOR NPNPL NRNRU NUNIU NZNZL OMOMN PAPAN PEPER PFPYF PGPNG
PHPHL PKPAK PLPOL PMSPM PNPCN PRPRI PSPSE PTPRT PWPLW PYPRY QAQAT REREU ROROU RSSRB RURUS RWRWA
SASAU SBSLB SCSYC SDSDN SESWE SGSGP SHSHN SISVN SJSJM SKSVK SLSLE SMSMR SNSEN SOSOM SRSUR SSSSD
STSTP SVSLV SXSXM SYSYR SZSWZ TCTCA TDTCD TFATF TGTGO THTHA TJTJK TKTKL TLTLS TMTKM TNTUN TOTON
TRTUR TTTTO TVTUV TWTWN TZTZA UAUKR UGUGA UMUMI USUSA UYURY UZUZB VAVAT VCVCT VEVEN VGVGB VIVIR
VNVNM VUVUT WFWLF WSWSM YEYEM YTMYT ZAZAF ZMZMB ZWZWE
"""
ALPHA2_TO_EU = {p[:2]: p[2:] for p in _ISO_PAIRS.split()}
# Where the EU country table departs from ISO alpha-3.
ALPHA2_TO_EU.update({"XK": "1A0", "TF": "FQ0"})
EU_COUNTRY_PREFIX = "http://publications.europa.eu/resource/authority/country/"



def fmt_path(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out or "(whole definition)"


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        print(f"error: cannot read the {what} {path}: {e.strerror}", file=sys.stderr)
    except json.JSONDecodeError as e:
        print(f"error: the {what} {path} is not valid JSON: {e}", file=sys.stderr)
    sys.exit(2)


def find_cv(explicit):
    if explicit:
        return explicit
    env = os.environ.get("BEM_CV_FILE")
    if env:
        return env
    for c in CV_CANDIDATES:
        if os.path.isfile(c):
            return os.path.normpath(c)
    return None


def walk_strings(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk_strings(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_strings(v, path + (i,))
    elif isinstance(node, str):
        yield path, node


def course_texts(d):
    """Yield (path, language map) for the course texts of a valid definition."""
    for key in ("summary", "qualityAssurance", "prerequisites", "grading", "furtherInformation"):
        if key in d:
            yield key, d[key]
    for i, lo in enumerate(d["learningOutcomes"]):
        yield f"learningOutcomes[{i}].title", lo["title"]
    for obj, key in (("assessment", "description"), ("participation", "description"),
                     ("supervisionAndIdentityVerification", "description"),
                     ("stackability", "description"), ("sector", "description"),
                     ("validity", "note")):
        if key in d.get(obj, {}):
            yield f"{obj}.{key}", d[obj][key]
    for i, tg in enumerate(d["targetGroups"]):
        yield f"targetGroups[{i}]", tg


def is_nqf_level_label(label):
    """A QDR concept is a framework level when its label says so ("NQFS Level 3",
    "CQFW Entry 1-3"); the others name whole frameworks."""
    return "Level" in label or "Entry" in label


def schema_enum_uris(schema):
    for path, s in walk_strings(schema):
        if "enum" in path and s.startswith(EU_CONCEPT_PREFIXES):
            yield path, s


def main():
    ap = argparse.ArgumentParser(description="Validate a BEM micro-credential catalogue.")
    ap.add_argument("catalogue", nargs="?", default=DEFAULT_CATALOGUE)
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--cv", help="controlled-vocabularies.json to check concept URIs against")
    ap.add_argument("--strict", action="store_true", help="treat warnings as problems")
    ap.add_argument("--quiet", action="store_true", help="print problems and the summary only")
    args = ap.parse_args()

    try:
        import jsonschema
        from jsonschema import Draft202012Validator
    except ImportError:
        print("error: the Python package 'jsonschema' (4.x) is needed.\n"
              "       Install it with:  python3 -m pip install jsonschema", file=sys.stderr)
        return 2

    schema = load_json(args.schema, "schema")
    data = load_json(args.catalogue, "catalogue")

    problems = []   # (order, where, message)
    warnings = []
    notices = []

    def problem(where, msg, order=-1):
        problems.append((order, where, msg))

    # 1. the schema itself
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"error: {args.schema} is not a valid JSON Schema: {e.message}", file=sys.stderr)
        return 2
    validator = Draft202012Validator(schema)

    if isinstance(data, dict):
        definitions = [data]
    elif isinstance(data, list):
        definitions = data
    else:
        print("error: the catalogue must be a JSON array of definitions or one definition object",
              file=sys.stderr)
        return 2
    if not definitions:
        problem("catalogue", "the catalogue is empty")

    def label(i, d):
        ident = d.get("id") if isinstance(d, dict) else None
        return f"#{i} {ident}" if isinstance(ident, str) else f"#{i}"

    # 2. schema validation, every problem
    valid = []
    error_paths = set()   # (definition index, path) already reported by the schema
    for i, d in enumerate(definitions):
        errs = sorted(validator.iter_errors(d), key=lambda e: (list(map(str, e.absolute_path)), e.message))
        for e in errs:
            path = fmt_path(e.absolute_path)
            error_paths.add((i, path))
            message = e.message
            if e.validator == "dependentRequired" and "nqfLevel" not in d and "eqfLevel" in d:
                message = NQF_REQUIRED
            problem(label(i, d), f"{path}: {message}", i)
        valid.append(not errs)

    # 3. ids and references
    ids = {}
    for i, d in enumerate(definitions):
        if isinstance(d, dict) and isinstance(d.get("id"), str):
            if d["id"] in ids:
                problem(label(i, d), f"id '{d['id']}' is also used by definition #{ids[d['id']]}", i)
            else:
                ids[d["id"]] = i
    for i, d in enumerate(definitions):
        if not isinstance(d, dict):
            continue
        for j, p in enumerate(((d.get("stackability") or {}).get("partOf")) or []):
            ref = p.get("catalogueId") if isinstance(p, dict) else None
            if isinstance(ref, str) and ref not in ids:
                problem(label(i, d), f"stackability.partOf[{j}].catalogueId: no definition with id '{ref}'", i)
            if ref == d.get("id"):
                problem(label(i, d), f"stackability.partOf[{j}].catalogueId: refers to itself", i)

    # 4. controlled vocabularies
    cv_path = find_cv(args.cv)
    cv_checked = 0
    if cv_path is None:
        notices.append("controlled-vocabularies.json not found: concept URIs were NOT checked "
                       "against it (use --cv FILE or BEM_CV_FILE)")
    else:
        cv = load_json(cv_path, "controlled vocabularies file")
        schemes = cv.get("schemes", {})
        by_scheme = {k: {c["uri"] for c in v.get("concepts", [])} for k, v in schemes.items()}
        all_uris = set().union(*by_scheme.values()) if by_scheme else set()
        schema_enum = {s for _, s in schema_enum_uris(schema)}

        def check_uri(where, path, uri, scheme_key=None, order=-1):
            nonlocal cv_checked
            if (order, path) in error_paths:
                return   # the schema already reported this value
            cv_checked += 1

            def problem(where, msg):
                problems.append((order, where, msg))
            if uri.startswith(SCHEMES_NOT_IN_CV_FILE):
                if uri in schema_enum:
                    notices.append(f"{where} {path}: {uri} belongs to a scheme that is not in the "
                                   f"controlled vocabularies file; accepted as a fixed value of the schema")
                else:
                    problem(where, f"{path}: {uri} is not a known concept (its scheme is not in the "
                                   f"controlled vocabularies file and the schema does not list it)")
                return
            if scheme_key is not None and uri not in by_scheme.get(scheme_key, set()):
                problem(where, f"{path}: {uri} is not a concept of the '{scheme_key}' scheme in {cv_path}")
            elif uri not in all_uris:
                problem(where, f"{path}: {uri} is not in the controlled vocabularies file {cv_path}")

        # the schema's own fixed values
        for path, uri in schema_enum_uris(schema):
            check_uri("schema", fmt_path(path), uri)

        field_scheme = {("sector", "iscedF"): "isced-f", ("country", "uri"): "country", ("nqfLevel",): "nqf"}
        # The QDR list holds the frameworks and their levels; an NQF level names a level.
        nqf_frameworks = {c["uri"] for c in schemes.get("nqf", {}).get("concepts", [])
                          if not is_nqf_level_label(c.get("label", ""))}
        for i, d in enumerate(definitions):
            if not isinstance(d, dict):
                continue
            where = label(i, d)
            for path, s in walk_strings(d):
                if path == ("nqfLevel", "id"):
                    continue   # checked below: never an EU concept
                if s.startswith(EU_CONCEPT_PREFIXES):
                    key = field_scheme.get(tuple(p for p in path[-2:]))
                    check_uri(where, fmt_path(path), s, key, i)
            nqf = d.get("nqfLevel")
            if isinstance(nqf, str) and nqf in nqf_frameworks:
                problem(where, f"nqfLevel: {nqf} is a qualifications framework, not one of its levels", i)
            # URIs the issuer derives from plain values
            eqf = d.get("eqfLevel")
            if isinstance(eqf, int) and not isinstance(eqf, bool) and 1 <= eqf <= 8:
                check_uri(where, "eqfLevel (derived)", f"http://data.europa.eu/snb/eqf/{eqf}", "eqf", i)
            wl = d.get("workload") if isinstance(d.get("workload"), dict) else {}
            if "ectsCredits" in wl:
                check_uri(where, "workload.ectsCredits (framework)", ECTS_URI, "credit-points", i)
            if "ecvetPoints" in wl:
                check_uri(where, "workload.ecvetPoints (framework)", ECVET_URI, "credit-points", i)

    # the object form of nqfLevel: a framework the QDR does not list
    for i, d in enumerate(definitions):
        nqf = d.get("nqfLevel") if isinstance(d, dict) else None
        if not isinstance(nqf, dict):
            continue
        ident = nqf.get("id")
        if isinstance(ident, str) and ident.split("://", 1)[-1].lower().startswith("data.europa.eu/snb/"):
            problem(label(i, d), f"nqfLevel.id: {ident} is a concept of the EU vocabularies: a level "
                                 f"of the QDR list is given as nqfLevel itself (its URI); the object "
                                 f"form is for a framework the QDR does not list", i)
        for key in ("framework", "level"):
            # Python's re lets "$" match before a final line break, so the schema's pattern
            # alone would accept one there.
            if isinstance(nqf.get(key), str) and CONTROL_CHARACTERS & set(nqf[key]) \
                    and (i, f"nqfLevel.{key}") not in error_paths:
                problem(label(i, d), f"nqfLevel.{key}: control characters (line breaks, tabs...) are not allowed", i)

    # 5. country code <-> EU country URI
    for i, d in enumerate(definitions):
        if not isinstance(d, dict):
            continue
        c = (d.get("awardingBody") or {}).get("country") if isinstance(d.get("awardingBody"), dict) else None
        if isinstance(c, dict) and isinstance(c.get("code"), str) and isinstance(c.get("uri"), str):
            expected = ALPHA2_TO_EU.get(c["code"])
            if expected is None:
                problem(label(i, d), f"awardingBody.country.code: '{c['code']}' is not an ISO 3166-1 alpha-2 code", i)
            elif c["uri"] != EU_COUNTRY_PREFIX + expected:
                problem(label(i, d), f"awardingBody.country: code '{c['code']}' is "
                                     f"{EU_COUNTRY_PREFIX + expected}, but uri is {c['uri']}", i)

    # warnings
    for i, d in enumerate(definitions):
        if not (isinstance(d, dict) and valid[i]):
            continue
        where = label(i, d)
        title_langs = set(d["title"])
        for p, m in course_texts(d):
            missing = title_langs - set(m)
            if missing:
                warnings.append((where, f"{p}: no text in {', '.join(sorted(missing))} "
                                        f"(the title has it)"))
        wl = d["workload"]
        hours = wl.get("hours")
        for key in ("ectsCredits", "ecvetPoints"):
            if hours and key in wl:
                ratio = hours / wl[key]
                if not 20 <= ratio <= 35:
                    warnings.append((where, f"workload: {hours} hours for {wl[key]} {key} is "
                                            f"{ratio:.1f} hours per credit (usual: 25-30)"))

    # report
    n = len(definitions)
    if not args.quiet:
        print(f"schema:     {args.schema}")
        print(f"catalogue:  {args.catalogue} ({n} definition{'s' if n != 1 else ''})")
        print(f"vocabulary: {cv_path or 'not found'}" + (f" ({cv_checked} concept URIs checked)" if cv_path else ""))
        for msg in notices:
            print(f"note: {msg}")
    for _, where, msg in sorted(problems, key=lambda p: p[0]):   # stable: per definition
        print(f"PROBLEM {where}: {msg}")
    for where, msg in warnings:
        print(f"{'PROBLEM' if args.strict else 'warning'} {where}: {msg}")
    failed = bool(problems) or (args.strict and bool(warnings))
    print(("FAILED: " if failed else "OK: ") +
          f"{len(problems)} problem(s), {len(warnings)} warning(s) in {n} definition(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
