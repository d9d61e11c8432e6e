"""What every `lawful` command module shares: the consoles, the progress reporter, option parsers. No store: the
commands are clients of the server (lawful.client); only `lawful admin` (cli_admin.py) opens the store."""

from __future__ import annotations


from rich.console import Console
from rich.errors import MarkupError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def _misleads(text: str) -> bool:
    """Markup that makes a hyperlink or hides words, whatever the tag looks like: `[link=..]`, `[bold link=..]`,
    `[b link URL]`, `[conceal]` (the style is parsed as Rich will apply it, not matched by a pattern)."""
    from rich.markup import render
    from rich.style import Style
    from rich.errors import StyleSyntaxError

    for span in render(text).spans:  # MarkupError: the caller prints the line plain
        style = span.style
        if isinstance(style, str):
            try:
                style = Style.parse(style)
            except StyleSyntaxError:
                continue  # an unknown style name renders as nothing special
        if style.link or style.conceal or style.meta:
            return True
    return False


class SafeConsole(Console):
    """A console that prints text from the server (complaints the public wrote, statements, reasons, ingested
    fields) safely inside the commands' own markup: a line whose markup makes a link or hides words (`_misleads`) is
    printed as plain text (the commands never make links, so one is someone's hyperlink hidden behind other words),
    and a line whose markup does not parse (`[/bold]` in a complaint) is printed plain instead of the command
    failing."""

    def render_str(self, text, *, markup=None, **kwargs):
        try:
            if (self._markup if markup is None else markup) and "[" in text and _misleads(text):
                markup = False
            return super().render_str(text, markup=markup, **kwargs)
        except MarkupError:
            return super().render_str(text, markup=False, **kwargs)


out = SafeConsole(soft_wrap=True)  # long lines stay whole in logs and pipes
err = SafeConsole(stderr=True, soft_wrap=True)


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


def _date(text: str, option: str):
    """A YYYY-MM-DD option, or one line saying how to write it."""
    from datetime import date

    from lawful.errors import LawfulError

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise LawfulError(f"{option} {text!r} is not a date", f"write it as YYYY-MM-DD, e.g. {option} 2019-01-01") from None


def _instant(text: str, option: str, *, require_offset: bool = False):
    """A date or ISO date-time option as a UTC-aware datetime; without an offset it is read as UTC, unless the
    option must carry one (times that start legal deadlines)."""
    from datetime import datetime, timezone

    from lawful.errors import LawfulError

    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise LawfulError(f"{option} {text!r} is not a date or time", f"write e.g. {option} 2026-11-20T14:00+00:00") \
            from None
    if t.tzinfo is None:
        if require_offset:
            raise LawfulError(f"{option} {text!r} has no time zone", "add one, e.g. +00:00 or -05:00")
        t = t.replace(tzinfo=timezone.utc)
    return t


def _wide(width: int = 150) -> Console:
    """stdout at least `width` columns: tables must not be squeezed into ellipses in a narrow pipe or log."""
    return out if out.width >= width else SafeConsole(width=width, soft_wrap=True)
