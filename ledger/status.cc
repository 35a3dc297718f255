#include "ledger/status.h"

namespace hourbank {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalid:
      return "invalid";
    case Code::kNotFound:
      return "not_found";
    case Code::kRefused:
      return "refused";
    case Code::kConflict:
      return "conflict";
    case Code::kCorruption:
      return "corruption";
    case Code::kIo:
      return "io";
    case Code::kBusy:
      return "busy";
    case Code::kLimit:
      return "limit";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kForbidden:
      return "forbidden";
  }
  return "unknown";
}

}  // namespace hourbank
