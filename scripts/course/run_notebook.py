#!/usr/bin/env python3
"""Execute one notebook headless with a real Jupyter client (nbclient) and the tslab kernel.

usage: run_notebook.py IN.ipynb OUT.ipynb [--html OUT.html [--plotly-js PLOTLY.js]] [--kernel tslab]
       [--timeout SECONDS] [--cwd DIR]

Writes the executed notebook (and optionally an HTML write-up), then prints ONE line of JSON on
stdout: {"ok": bool, "seconds": float, "cells": [{"cell": i, "id": ..., "seconds": t}], "problems": [{"cell": i, "id": ..., "kind": ..., "text": ...}]}.

tslab reports type errors and exceptions on *stderr* (with an empty error message), so any
stderr stream output counts as a problem, as does an "error" output. Every cell runs even after
a failing one (allow_errors), so one run reports every broken cell.
The HTML write-up opens offline: it uses the nmi-lab template (nbconvert/nmi-lab/: JupyterLab's
page without CDN scripts) and, when the notebook has a chart (plotly's MIME type), carries the
plotly.js build given by --plotly-js once, in its head; the charts' HTML fallbacks draw with it.
Exit status: 0 clean, 1 problems found, 2 the runner itself failed (bad arguments, no kernel).
Runs under the project's Python environment (.venv/, made by scripts/setup.sh).
"""
import argparse
import json
import os
import re
import sys
import time

PLOTLY_MIME = "application/vnd.plotly.v1+json"
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nbconvert")


def plotly_head(nb, plotly_js):
    """The <script> defining window.Plotly, or "" when no output is a chart or no build was given."""
    if not plotly_js:
        return ""
    charts = any(
        PLOTLY_MIME in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )
    if not charts:
        return ""
    with open(plotly_js, encoding="utf-8") as f:
        source = re.sub(r"</(script)", r"<\\/\1", f.read(), flags=re.IGNORECASE).replace("<!--", "<\\!--")
    # module, exports and define shadowed: the bundle installs window.Plotly whatever loader the page has.
    return (
        '<script type="text/javascript">/* plotly.js, inlined by NMI Lab */\n'
        "if(!window.Plotly){(function(module,exports,define){\n" + source + "\n}).call(window);}\n</script>"
    )


def export_html(nb, path, plotly_js):
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="nmi-lab", extra_template_basedirs=[TEMPLATES])
    body, _ = exporter.from_notebook_node(nb, resources={"nmi_lab_plotly": plotly_head(nb, plotly_js)})
    with open(path, "w", encoding="utf-8") as f:
        f.write(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--html")
    ap.add_argument("--plotly-js", help="plotly.js build to inline once in the HTML page when it has charts")
    ap.add_argument("--kernel", default="tslab")
    ap.add_argument("--timeout", type=int, default=120, help="per-cell timeout in seconds")
    ap.add_argument("--cwd", help="kernel working directory (default: the input's folder)")
    args = ap.parse_args()

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(args.input, as_version=4)
    cwd = args.cwd or os.path.dirname(os.path.abspath(args.input))
    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        allow_errors=True,
        resources={"metadata": {"path": cwd}},
    )
    timings = {}

    starts = {}

    def on_start(cell, cell_index):
        starts[cell_index] = time.time()

    def on_done(cell, cell_index, **_):
        if cell_index in starts:
            timings[cell_index] = round(time.time() - starts[cell_index], 3)

    client.on_cell_start = on_start
    client.on_cell_executed = on_done
    started = time.time()
    problems = []
    try:
        client.execute()
    except Exception as e:  # a dead kernel, a timeout, a missing kernelspec
        problems.append({"cell": None, "id": None, "kind": "runner", "text": f"{type(e).__name__}: {e}"})
    seconds = time.time() - started

    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                problems.append({"cell": i, "id": cell.get("id"), "kind": "stderr", "text": out.get("text", "")})
            elif out.get("output_type") == "error":
                text = "\n".join(out.get("traceback") or []) or f"{out.get('ename', '')}: {out.get('evalue', '')}"
                problems.append({"cell": i, "id": cell.get("id"), "kind": "error", "text": text})

    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    nbformat.write(nb, args.output)
    if args.html:
        export_html(nb, args.html, args.plotly_js)

    cells = [{"cell": i, "id": nb.cells[i].get("id"), "seconds": t} for i, t in sorted(timings.items())]
    print(json.dumps({"ok": not problems, "seconds": round(seconds, 3), "cells": cells, "problems": problems}))
    return 0 if not problems else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException as e:  # report, never a bare traceback the caller cannot parse
        print(json.dumps({"ok": False, "seconds": 0, "problems": [{"cell": None, "id": None, "kind": "runner", "text": f"{type(e).__name__}: {e}"}]}))
        sys.exit(2)
