// Text from the ledger made safe for where it is printed (issue 14, items 11 and 12). Task,
// note, staff, reason, ref and other user text is stored as given; it is escaped on output.
#pragma once

#include <string>
#include <string_view>

namespace hourbank::cli {

// For a terminal line (tables, logs, errors): every control character (C0 incl. ESC, DEL) and
// invalid UTF-8 byte becomes "\xNN"; C1 controls and the bidirectional overrides/isolates
// (U+202A–U+202E, U+2066–U+2069) and line/paragraph separators (U+2028, U+2029) become
// "\u{NNNN}". Everything else (printable ASCII, other valid UTF-8) is kept as is.
std::string TerminalSafe(std::string_view s);

// TerminalSafe for each line of a multi-line text: the '\n' between lines are kept.
std::string TerminalLines(std::string_view text);

// For free text in an hledger journal (a transaction description): TerminalSafe, and ';'
// (which starts a comment there) becomes "\x3b". The result holds no line break, so it
// cannot begin a new transaction, posting or directive.
std::string HledgerText(std::string_view s);

// One CSV cell (RFC 4180 and the OWASP CSV-injection rule): a cell starting with = + - @ TAB
// or CR gets a leading single quote unless it is a plain integer such as -1500 (written by
// hourbank itself), and is then quoted; any cell holding a comma, quote, CR or LF is quoted,
// with the quotes inside doubled. Other characters (tabs, control characters) are kept: the
// cell's value survives a round trip through any RFC 4180 reader.
std::string CsvCell(std::string_view s);

}  // namespace hourbank::cli
