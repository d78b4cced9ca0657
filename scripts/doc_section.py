"""Replaces one `## ` section of a Markdown document (the scripts that measure write their figures
into docs/ this way: each run replaces its own section and leaves the rest alone)."""

import os


def replace_section(path, heading, text, title):
    """Puts `text` (which starts with `heading`) in place of the section `heading` of the document at
    `path`, or appends it; a missing document starts with `# title`."""
    doc = open(path).read() if os.path.exists(path) else f"# {title}\n"
    start = doc.find("\n" + heading + "\n")
    if start >= 0:
        end = doc.find("\n## ", start + 1)
        doc = doc[:start + 1] + text.rstrip("\n") + "\n" + ("\n" + doc[end + 1:] if end >= 0 else "")
    else:
        doc = doc.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    with open(path, "w") as f:
        f.write(doc)
