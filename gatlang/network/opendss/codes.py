"""Diagnostic codes of the OpenDSS importer (ranges GAT0540-GAT0565 and GAT0566-GAT0599).

Why constants: the explain pages (gatlang/explain/GAT05xx.md) and the tests
refer to the same codes; a typo in a string literal would go unnoticed.
"""
FILE_NOT_FOUND = "GAT0540"      # a Redirect/Compile/BusCoords target or the input itself is missing
UNKNOWN_CLASS = "GAT0541"       # New/Edit of a class OpenDSS does not have
UNKNOWN_PROPERTY = "GAT0542"    # property name not known for the class
BAD_NUMBER = "GAT0543"          # a value that should be a number is not
BAD_MATRIX = "GAT0544"          # matrix of the wrong size/shape
INCONSISTENT_PHASES = "GAT0545"  # phases vs. bus nodes vs. matrix order disagree
DISCONNECTED_ISLAND = "GAT0546"  # buses no source reaches (warning; kept as `isolated`)
UNKNOWN_COMMAND = "GAT0547"     # first word of a line is not a DSS command
UNTERMINATED_QUOTE = "GAT0548"  # a quote or bracket is not closed on its line
NOT_MODELLED = "GAT0549"        # an object class gatlang keeps no table for
PROPERTY_IGNORED = "GAT0550"    # a property gatlang cannot represent
UNKNOWN_OBJECT = "GAT0551"      # reference to an object that was never defined
NO_ACTIVE_OBJECT = "GAT0552"    # `~`/More with nothing to continue
DUPLICATE_OBJECT = "GAT0553"    # New of an object that already exists
BAD_BUS = "GAT0554"             # malformed bus/node specification
UNKNOWN_UNIT = "GAT0555"        # length unit not known
BAD_RPN = "GAT0556"             # in-line RPN expression does not evaluate
NO_CIRCUIT = "GAT0557"          # elements defined before `New Circuit`
BAD_COORDS = "GAT0558"          # BusCoords/LatLongCoords row cannot be read
COMMAND_IGNORED = "GAT0559"     # a solution/report command recorded but not executed
BAD_VALUE = "GAT0560"           # value outside the allowed set (conn=, model=, ...)
BAD_WINDING = "GAT0561"         # transformer winding index/array length problems
GEOMETRY_NOT_COMPUTED = "GAT0562"  # conductor data the line-constant formulas cannot use
BAD_ARRAY_LENGTH = "GAT0563"    # array shorter/longer than the element needs
SINGULAR_IMPEDANCE = "GAT0564"  # impedance matrix cannot be inverted
SCHEMA_VIOLATION = "GAT0565"    # converted data does not fit the canonical schema (a gatlang bug)
STEP_ARRAY_LENGTH = "GAT0566"   # capacitor kvar/cuf list does not match numsteps (warning)
BAD_PATTERN = "GAT0567"         # BatchEdit name pattern is not a regular expression

ALL = {k: v for k, v in globals().items() if k.isupper()}
