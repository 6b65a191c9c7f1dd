"""The public-domain English corpus shipped with the project for the demo GPT.

``data/corpus.txt`` holds documents, each opened by a ``=== title | author | year ===``
line; ``data/README.md`` lists sources and licences.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CORPUS_PATH = Path(__file__).parent / "data" / "corpus.txt"


@dataclass(frozen=True)
class Document:
    title: str
    author: str
    year: str
    text: str

    def training_text(self) -> str:
        return f"{self.title}\n\n{self.text}\n"


def load_corpus(path: Path = CORPUS_PATH) -> list[Document]:
    documents: list[Document] = []
    header: list[str] | None = None
    lines: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), "=== end | | ==="]:
        if line.startswith("=== ") and line.endswith(" ==="):
            if header is not None:
                documents.append(Document(*header, "\n".join(lines).strip()))
            header = [part.strip() for part in line[4:-4].split("|")]
            if len(header) != 3:
                raise ValueError(f"bad corpus header: {line!r}")
            lines = []
        elif header is None:
            raise ValueError("corpus text before the first header")
        else:
            lines.append(line)
    return documents
