"""What every `lawful` command module shares: the consoles, the progress reporter, one store session."""

from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lawful import db
from lawful.settings import Settings

out = Console(soft_wrap=True)  # long lines stay whole in logs and pipes
err = Console(stderr=True, soft_wrap=True)


class _Reporter:
    """A progress bar on a terminal; plain stage lines otherwise (logs, CI, pipes)."""

    def __init__(self) -> None:
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=err, transient=True) if err.is_terminal else None
        self.tasks: dict[str, int] = {}
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.bar is None:
            if stage != self.stage and stage == "writing":  # the one long stage; a log should show it began
                err.print(f"writing {total:,} rows", highlight=False)
            self.stage = stage
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def __enter__(self):
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()


@contextmanager
def _session():
    settings = Settings.from_env()
    engine = db.open_store(settings)
    try:
        with db.transaction(engine) as session:
            yield session, settings
    finally:
        engine.dispose()
