"""Run a DSS script the way the engine reads it, into a store of objects and settings.

Why an interpreter (and not a converter per line): the meaning of a DSS file
is the state left after executing it — ``Clear`` empties it, ``Edit``/``~``
change objects defined elsewhere, ``like=`` copies, ``Redirect`` splices other
files, ``Load.x.vminpu=.85`` edits in passing.  This module executes exactly
those commands and nothing else (no solving), keeping for every property
*where* it was written so that the converters can point diagnostics at the
user's file, line and column.  Assignments are kept in order because some
classes (transformer windings, ``linecode`` followed by ``r1``) depend on it.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from gatlang.diagnostics import DiagnosticSink, Span, did_you_mean

from . import catalog, codes
from .lexer import Param, lex
from .values import Value, number

#: every command of the engine (opendssdirect 0.9.4, ``Executive.Command``), for "did you mean"
ENGINE_COMMANDS = frozenset("""
new edit more m ~ select save show solve enable disable plot reset compile set dump open close //
redirect help quit ? next panel sample clear about calcvoltagebases setkvbase buildy get init export
fileedit voltages currents powers seqvoltages seqcurrents seqpowers losses phaselosses cktlosses
allocateloads formedit totals capacity classes userclasses zsc zsc10 zscrefresh ysc puvoltages
varvalues varnames buscoords makebuslist makeposseq reduce interpolate alignfile top rotate vdiff
summary distribute di_plot comparecases yearlycurves cd visualize closedi doscmd estimate reconductor
_initsnap _solvenocontrol _samplecontrols _docontrolactions _showcontrolqueue _solvedirect _solvepflow
addbusmarker uuids setloadandgenkv cvrtloadshapes nodediff rephase setbusxy updatestorage obfuscate
latlongcoords batchedit pstcalc variable reprocessbuses clearbusmarkers relcalc var cleanup
finishtimestep nodelist connect disconnect remove calcincmatrix calcincmatrix_o refine_buslevels
calclaplacian exportoverloads exportvviolations zsc012 allpceatbus allpdeatbus totalpowers giscoords
clearall comhelp newactor wait solveall abort clone calcv
""".split())
#: commands that would change the circuit but that gatlang does not execute
_UNSUPPORTED = frozenset("""
rotate reduce remove connect disconnect reconductor makeposseq setkvbase setloadandgenkv
cvrtloadshapes rephase alignfile obfuscate updatestorage refine_buslevels save
""".split())
#: commands that solve, report, plot or manage the session: nothing to import, accepted silently
_PASSIVE = ENGINE_COMMANDS - _UNSUPPORTED - {"new", "edit", "more", "m", "~", "set", "clear", "clearall",
                                             "redirect", "compile", "buscoords", "latlongcoords", "open",
                                             "close", "enable", "disable", "select", "setbusxy", "cd",
                                             "batchedit"}
#: commands whose unterminated quote is an error (object data); elsewhere a warning
_DEFINING = frozenset({"new", "edit", "more", "m", "~"})
_MAX_DEPTH = 40
_BUS_PROPS = frozenset({"bus1", "bus2", "bus", "buses"})


@dataclass
class Assignment:
    prop: str          # canonical lower-case property name
    value: Value
    inherited: bool = False   # copied by ``like=`` (the engine copies values, not references)
    command: int = 0          # which command wrote it: the engine recomputes derived data after each


@dataclass
class DssObject:
    """One ``New`` object: its class, name and property assignments in order."""

    cls: str
    name: str                       # lower-case, as the engine matches names
    display: str
    span: Span                      # the ``New`` command
    assignments: list[Assignment] = field(default_factory=list)
    enabled: bool = True
    base_freq: float = 60.0         # `Set DefaultBaseFrequency` when the object was created

    def last(self) -> dict[str, Value]:
        """Property -> value of its last assignment."""
        return {a.prop: a.value for a in self.assignments}

    @property
    def key(self) -> str:
        return f"{self.cls}.{self.name}"


@dataclass
class Coord:
    x: float
    y: float
    span: Span


@dataclass
class Circuit:
    """What a script leaves behind: objects by class, settings, coordinates, files read."""

    name: str = ""
    span: Span | None = None
    frequency: float = 60.0         # the last default base frequency set (engine: solution frequency)
    objects: dict[str, dict[str, DssObject]] = field(default_factory=dict)
    settings: dict[str, Value] = field(default_factory=dict)
    coords: dict[str, Coord] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def of(self, cls: str) -> list[DssObject]:
        return list(self.objects.get(cls, {}).values())

    def find(self, cls: str, name: str) -> DssObject | None:
        return self.objects.get(cls, {}).get(name.lower())


class Interpreter:
    """Executes DSS commands; reports every problem to `sink` and keeps going."""

    def __init__(self, sink: DiagnosticSink) -> None:
        self.sink = sink
        self.circuit = Circuit()
        self.active: DssObject | None = None
        self._depth = 0
        self.default_freq = 60.0
        #: the engine's current directory: relative file names resolve against it (not against
        #: the naming file) -- `Compile` and `cd` move it, `Redirect` restores it when done
        self.cwd: Path | None = None
        self._ncommand = 0

    # ------------------------------------------------------------------ files

    def compile(self, path: Path, span: Span | None) -> None:
        """``Compile <path>`` as the engine runs it (also how a script is imported).

        Measured on the engine (opendssdirect, AllowChangeDir on, its default):
        Compile moves the current directory to the compiled file's folder and
        leaves it there afterwards -- later relative names in the *calling*
        file resolve from that folder -- until an enclosing Redirect ends and
        restores the directory it started with.  A nested Compile moves it
        again, and the outer Compile, when it finishes, sets it back to its own
        file's folder.
        """
        self.cwd = path.parent
        self.run_file(path, span)
        self.cwd = path.parent

    def redirect(self, path: Path, span: Span | None) -> None:
        """``Redirect <path>``: run it from its own folder, then restore the current directory."""
        saved, self.cwd = self.cwd, path.parent
        try:
            self.run_file(path, span)
        finally:
            self.cwd = saved

    def run_file(self, path: Path, span: Span | None) -> None:
        if self._depth > _MAX_DEPTH:
            self.sink.error(codes.FILE_NOT_FOUND, f"Redirect nesting deeper than {_MAX_DEPTH} at `{path}`",
                            span, help="a file probably redirects to itself")
            return
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self.sink.error(codes.FILE_NOT_FOUND, f"cannot read OpenDSS file `{path}`: "
                            f"{exc.strerror or exc}", span,
                            help="check the path; relative paths are taken from the current "
                                 "directory: the folder of the file being read, or of the file "
                                 "compiled last (`Compile` and `cd` change it, as in OpenDSS)")
            return
        self.circuit.files.append(path)
        self._depth += 1
        try:
            self.run_text(decode(raw), path)
        finally:
            self._depth -= 1

    def run_text(self, text: str, path: Path) -> None:
        fname = str(path)
        for line in lex(text):
            params = list(line.params)
            if not params:
                continue
            head = params[0]
            defining = head.name is not None or head.value.lower() in _DEFINING or "." in head.value
            for p in params:
                if p.unterminated:
                    report = self.sink.error if defining else self.sink.warning
                    report(codes.UNTERMINATED_QUOTE, f"`{p.quote}` is not closed on this line",
                           _span(fname, p), help="close the quote or bracket on the same line; "
                           "continue long values with a `~` line")
            self._command(params, path)

    # ------------------------------------------------------------------ commands

    def _command(self, params: list[Param], path: Path) -> None:
        fname = str(path)
        self._ncommand += 1
        head, rest = params[0], params[1:]
        if head.name is not None:                      # Load.x.vminpu=.85 or `~ a=b` glued
            if "." in head.name:
                self._dotted_edit(head, rest, fname)
            else:
                self._unknown_command(head.name, head, fname)
            return
        verb = head.value.lower()
        if head.quote:
            self._unknown_command(head.value, head, fname)
        elif verb in ("new",):
            self._new(head, rest, fname)
        elif verb in ("edit",):
            self._edit(head, rest, fname)
        elif verb in ("~", "more", "m"):
            if self.active is None:
                self.sink.error(codes.NO_ACTIVE_OBJECT, "`~` continues nothing: no object was defined before",
                                _span(fname, head), help="start the object with `New <class>.<name>` first")
                return
            self._assign(self.active, rest, fname)
        elif verb.startswith("~"):                      # `~bus1=...` written without a blank
            if self.active is not None:
                glued = Param(None, head.value[1:], "", head.name_col + 1, head.value_col + 1, head.line)
                self._assign(self.active, [glued, *rest] if glued.value else rest, fname)
        elif verb == "set":
            self._set(rest, fname)
        elif verb in ("clear", "clearall"):
            self.circuit = Circuit(files=self.circuit.files)
            self.active = None           # (the default base frequency is global: kept)
        elif verb in ("redirect", "compile"):
            self._redirect(head, rest, path, verb == "compile")
        elif verb == "cd":
            self._cd(head, rest, path)
        elif verb == "batchedit":
            self._batchedit(head, rest, fname)
        elif verb in ("buscoords", "latlongcoords"):
            self._buscoords(head, rest, path)
        elif verb in ("open", "close", "enable", "disable"):
            self._open_close(head, rest, fname, verb in ("open", "disable"))
        elif verb == "select":
            self._select(head, rest, fname)
        elif verb == "setbusxy":
            self._setbusxy(rest, fname)
        elif verb in _PASSIVE:
            return
        elif verb in _UNSUPPORTED:
            self.sink.warning(codes.COMMAND_IGNORED, f"command `{head.value}` is not executed by the importer",
                              _span(fname, head),
                              help="edit the objects with `Edit`/`New` properties instead; the imported "
                                   "network ignores this command")
        elif "." in verb and catalog.canonical_class(verb.split(".")[0]) is not None:
            self._dotted_select(head, rest, fname)      # `Transformer.reg1 Taps=[...]`
        else:
            self._unknown_command(head.value, head, fname)

    def _unknown_command(self, word: str, p: Param, fname: str) -> None:
        known = sorted(c for c in ENGINE_COMMANDS if c[0].isalpha())
        self.sink.error(codes.UNKNOWN_COMMAND, f"`{word}` is not an OpenDSS command", _span(fname, p),
                        help=did_you_mean(word, known) or "a line starts with a command such as `New`, "
                        "`Edit`, `~`, `Set` or `Redirect`")

    def _split_object(self, text: str, p: Param, fname: str) -> tuple[str, str] | None:
        cls_text, dot, name = text.partition(".")
        if not dot or not name:
            self.sink.error(codes.UNKNOWN_CLASS, f"`{text}` does not name an object as `<class>.<name>`",
                            _span(fname, p), help="write e.g. `New Line.L1 bus1=...`")
            return None
        cls = catalog.canonical_class(cls_text)
        if cls is None:
            self.sink.error(codes.UNKNOWN_CLASS, f"OpenDSS has no class `{cls_text}`", _span(fname, p),
                            help=did_you_mean(cls_text, catalog.known_classes(), "class")
                            or "see the OpenDSS manual for the element classes")
            return None
        return cls, name

    def _new(self, head: Param, rest: list[Param], fname: str) -> None:
        if not rest:
            self.sink.error(codes.UNKNOWN_CLASS, "`New` needs an object such as `Line.L1`", _span(fname, head),
                            help="write `New <class>.<name> <property>=<value> ...`")
            return
        target = rest[0]
        if target.name is not None and target.name.lower() != "object":
            self.sink.error(codes.UNKNOWN_CLASS, f"`New` needs an object first, got `{target.name}=`",
                            _span(fname, target), help="write `New <class>.<name> ...`")
            return
        split = self._split_object(target.value, target, fname)
        if split is None:
            self.active = None
            return
        cls, name = split
        is_circuit = target.value.split(".", 1)[0].lower() == "circuit"
        span = _span(fname, target)
        if is_circuit:
            self.circuit.name, self.circuit.span = name, span
            self.circuit.frequency = self.default_freq
            name = "source"
        store = self.circuit.objects.setdefault(cls, {})
        if name.lower() in store and not is_circuit:
            self.sink.warning(codes.DUPLICATE_OBJECT, f"{cls} `{name}` is defined again; the new definition "
                              "replaces the old one", span, help="rename one of them or use `Edit`")
        obj = DssObject(cls, name.lower(), name, span, base_freq=self.default_freq)
        store.pop(name.lower(), None)
        store[name.lower()] = obj
        self.active = obj
        self._assign(obj, rest[1:], fname)

    def _edit(self, head: Param, rest: list[Param], fname: str) -> None:
        if not rest:
            self.sink.error(codes.UNKNOWN_OBJECT, "`Edit` needs an object", _span(fname, head),
                            help="write `Edit <class>.<name> <property>=<value>`")
            return
        target = rest[0]
        split = self._split_object(target.value, target, fname)
        if split is None:
            return
        obj = self._existing(*split, target, fname)
        if obj is not None:
            self.active = obj
            self._assign(obj, rest[1:], fname)

    def _batchedit(self, head: Param, rest: list[Param], fname: str) -> None:
        """``BatchEdit Load..* kw=5``: edit every object of the class whose name the pattern matches.

        As the engine (measured): the text after ``<class>.`` is a regular
        expression searched anywhere in the (lower-case) name, ignoring case,
        applied to the objects defined so far.
        """
        if not rest or rest[0].name is not None:
            self.sink.error(codes.UNKNOWN_CLASS, "`BatchEdit` needs `<class>.<pattern>`", _span(fname, head),
                            help="write e.g. `BatchEdit Load..* kw=10` (`.*` matches every name)")
            return
        target = rest[0]
        split = self._split_object(target.value, target, fname)
        if split is None:
            return
        cls, pattern = split
        try:
            rx = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            self.sink.error(codes.BAD_PATTERN, f"`{pattern}` is not a regular expression: {exc}",
                            _span(fname, target), help="`.*` matches every name; escape a literal dot as `\\.`")
            return
        for obj in list(self.circuit.objects.get(cls, {}).values()):
            if rx.search(obj.name):
                self._assign(obj, rest[1:], fname)

    def _existing(self, cls: str, name: str, p: Param, fname: str) -> DssObject | None:
        if cls == "vsource" and name.lower() == self.circuit.name.lower():
            name = "source"
        obj = self.circuit.find(cls, name)
        if obj is None:
            known = list(self.circuit.objects.get(cls, {}))
            self.sink.error(codes.UNKNOWN_OBJECT, f"{cls} `{name}` is not defined (yet)", _span(fname, p),
                            help=did_you_mean(name, known) or "define it with `New` before editing it")
        return obj

    def _open_close(self, head: Param, rest: list[Param], fname: str, opening: bool) -> None:
        """``Open Line.sw 1`` / ``Disable Load.x``: the element is taken out of service (or back in)."""
        if not rest:
            self.sink.error(codes.UNKNOWN_OBJECT, f"`{head.value}` needs an element", _span(fname, head),
                            help=f"write `{head.value} Line.<name> <terminal>`")
            return
        split = self._split_object(rest[0].value, rest[0], fname)
        obj = self._existing(*split, rest[0], fname) if split else None
        if obj is not None:
            obj.enabled = not opening

    def _select(self, head: Param, rest: list[Param], fname: str) -> None:
        """``Select Line.L1``: later ``~`` lines continue that object."""
        target = next((p for p in rest if p.name is None or p.name.lower() == "element"), None)
        if target is None:
            return
        split = self._split_object(target.value, target, fname)
        obj = self._existing(*split, target, fname) if split else None
        if obj is not None:
            self.active = obj

    def _setbusxy(self, rest: list[Param], fname: str) -> None:
        """``SetBusXY bus=650 x=200 y=400``."""
        vals = {p.name.lower(): p for p in rest if p.name}
        if not {"bus", "x", "y"} <= set(vals):
            return
        try:
            x, y = float(vals["x"].value), float(vals["y"].value)
        except ValueError:
            self.sink.error(codes.BAD_COORDS, "`SetBusXY` needs numbers for x and y", _span(fname, vals["x"]),
                            help="write `SetBusXY bus=<bus> x=<number> y=<number>`")
            return
        self.circuit.coords[vals["bus"].value.split(".")[0].lower()] = Coord(x, y, _span(fname, vals["bus"]))

    def _dotted_select(self, head: Param, rest: list[Param], fname: str) -> None:
        split = self._split_object(head.value, head, fname)
        if split is None:
            return
        obj = self._existing(*split, head, fname)
        if obj is not None:
            self.active = obj
            self._assign(obj, rest, fname)

    def _dotted_edit(self, head: Param, rest: list[Param], fname: str) -> None:
        """``Load.x.vminpu=.85 daily=...``: edit object x, first property written after its name."""
        assert head.name is not None
        obj_text, _, prop = head.name.rpartition(".")
        split = self._split_object(obj_text, head, fname) if obj_text else None
        if split is None:
            if not obj_text:
                self._unknown_command(head.name, head, fname)
            return
        obj = self._existing(*split, head, fname)
        if obj is None:
            return
        self.active = obj
        first = Param(prop, head.value, head.quote, head.name_col + len(obj_text) + 1, head.value_col,
                      head.line, head.unterminated)
        self._assign(obj, [first, *rest], fname)

    # ------------------------------------------------------------------ properties

    def _assign(self, obj: DssObject, params: list[Param], fname: str) -> None:
        """Record `params` on `obj` in order (the hot loop of the import: lookups hoisted)."""
        pos = self._next_positional(obj)
        cls = obj.cls
        index = catalog.property_indices(cls)
        resolve = catalog.resolve_property
        append = obj.assignments.append
        command = self._ncommand
        for p in params:
            if p.name is None:
                prop = catalog.positional_property(cls, pos)
                if prop is None:
                    self.sink.error(codes.UNKNOWN_PROPERTY, f"too many positional values for {cls} "
                                    f"`{obj.display}`: `{p.value}`", _span(fname, p),
                                    help="name the property: `<property>=<value>`")
                    continue
            else:
                prop = resolve(cls, p.name)
                if prop is None:
                    names = [catalog.display_name(cls, n) for n in catalog.property_names(cls)]
                    self.sink.error(codes.UNKNOWN_PROPERTY, f"{cls} has no property `{p.name}`",
                                    Span(fname, p.line, p.name_col, p.line, p.name_col + len(p.name)),
                                    help=did_you_mean(p.name, names, "property")
                                    or f"see `{cls}` in the OpenDSS manual for its properties")
                    continue
            end = p.value_col + len(p.value) + (2 if p.quote else 0)
            value = Value(p.value, p.quote, Span(fname, p.line, p.value_col, p.line, end))
            if prop == "like":
                self._like(obj, value, p, fname)
            else:
                append(Assignment(prop, value, False, command))
                if prop == "enabled":
                    obj.enabled = value.text.strip().lower()[:1] in ("y", "t", "1")
            pos = index[prop] + 1

    @staticmethod
    def _next_positional(obj: DssObject) -> int:
        if not obj.assignments:
            return 0
        return catalog.property_index(obj.cls, obj.assignments[-1].prop) + 1

    def _like(self, obj: DssObject, value: Value, p: Param, fname: str) -> None:
        other = self._existing(obj.cls, value.text.strip(), p, fname)
        if other is not None:   # as the engine: everything but the bus connections
            obj.assignments.extend(Assignment(a.prop, a.value, True, a.command) for a in other.assignments
                                   if a.prop not in _BUS_PROPS)

    # ------------------------------------------------------------------ Set, Redirect, BusCoords

    def _set(self, params: list[Param], fname: str) -> None:
        for p in params:
            if p.name is None:
                continue
            key = p.name.lower()
            value = Value(p.value, p.quote, Span(fname, p.line, p.value_col, p.line, p.end_col))
            self.circuit.settings[key] = value
            if key.startswith("defaultbasefr"):     # applies to objects created from now on
                f = number(value, self.sink, key)
                if f is not None and f > 0:       # ... and is the circuit's frequency (engine)
                    self.default_freq = self.circuit.frequency = f

    def _target(self, head: Param, rest: list[Param], path: Path) -> tuple[Path, Span] | None:
        if not rest:
            self.sink.error(codes.FILE_NOT_FOUND, f"`{head.value}` needs a file name", _span(str(path), head),
                            help=f"write `{head.value} <file>`")
            return None
        arg = rest[0]
        name = arg.value.strip()
        target = Path(name.replace("\\", "/"))
        if not target.is_absolute():
            target = resolve_case((self.cwd or path.parent) / target)
        return target, _span(str(path), arg)

    def _redirect(self, head: Param, rest: list[Param], path: Path, compiling: bool) -> None:
        found = self._target(head, rest, path)
        if found is not None:
            (self.compile if compiling else self.redirect)(*found)

    def _cd(self, head: Param, rest: list[Param], path: Path) -> None:
        """``cd <folder>``: later relative file names resolve from there (as in the engine)."""
        if not rest:                                   # the engine just reports the directory
            return
        found = self._target(head, rest, path)
        if found is None:
            return
        target, span = found
        if not target.is_dir():
            self.sink.error(codes.FILE_NOT_FOUND, f"`cd`: folder `{target}` does not exist", span,
                            help="relative folders are taken from the current directory, which `Compile` "
                                 "and `cd` change")
            return
        self.cwd = target

    def _buscoords(self, head: Param, rest: list[Param], path: Path) -> None:
        found = self._target(head, rest, path)
        if found is None:
            return
        target, span = found
        try:
            text = decode(target.read_bytes())
        except OSError as exc:
            self.sink.error(codes.FILE_NOT_FOUND, f"cannot read bus coordinates `{target}`: "
                            f"{exc.strerror or exc}", span, help="check the path of the BusCoords file")
            return
        self.circuit.files.append(target)
        self.circuit.coords.update(read_coords(text, str(target), self.sink))


def resolve_case(target: Path) -> Path:
    """`target`, or the one file whose path differs only in letter case (scripts written on Windows)."""
    if target.exists() or not target.parent.is_dir():
        return target
    low = target.name.lower()
    hits = [c for c in target.parent.iterdir() if c.name.lower() == low]
    return hits[0] if len(hits) == 1 else target


def decode(raw: bytes) -> str:
    """Text of a script: UTF-16 when it has a BOM or NUL bytes (Windows tools write it), else UTF-8."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    if b"\x00" in raw[:200]:
        return raw.decode("utf-16-le", errors="replace")
    return raw.decode("utf-8-sig", errors="replace")


def read_coords(text: str, fname: str, sink: DiagnosticSink) -> dict[str, Coord]:
    """Rows ``bus, x, y`` (commas or blanks); ``!``/``//`` comments and blank lines skipped."""
    out: dict[str, Coord] = {}
    for lineno, raw in enumerate(io.StringIO(text), start=1):
        body = raw.split("!")[0].split("//")[0].strip()
        if not body:
            continue
        cells = [c for c in next(csv.reader([body.replace("\t", " ").replace(" ", ","),]), []) if c]
        try:
            if len(cells) < 3:
                raise ValueError
            x, y = float(cells[1]), float(cells[2])
        except ValueError:
            sink.error(codes.BAD_COORDS, f"cannot read `{body}` as `bus, x, y`",
                       Span(fname, lineno, 1, lineno, len(raw.rstrip()) + 1),
                       help="each line of a BusCoords file is a bus name and two numbers")
            continue
        out[cells[0].lower()] = Coord(x, y, Span.point(fname, lineno))
    return out


def _span(fname: str, p: Param) -> Span:
    end = p.end_col if p.name is None else p.end_col
    return Span(fname, p.line, p.name_col, p.line, max(end, p.name_col + 1))
