// Errors as values, shared by every layer.
//
// A user can cause an Error (bad input, unknown client, locked month, conflict); a bug is an
// assertion. Each Error carries a Code the CLI maps to an exit code and the server to an HTTP
// status, and one human sentence that says what was wrong and how to fix it.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace hourbank {

enum class Code : uint8_t {
  kOk = 0,
  kInvalid,   // bad input: malformed, out of range, unknown reference     -> exit 1, HTTP 400/404
  kNotFound,  // unknown client / plan / entry / ledger                     -> exit 1, HTTP 404
  kRefused,   // valid input refused by a rule (locked month, blocked, …)  -> exit 1, HTTP 409/422
  kConflict,  // expected-version mismatch, idempotency key reused          -> exit 3, HTTP 409
  kCorruption,  // stored data fails to decode or verify                      -> exit 1, HTTP 500
  kIo,          // RocksDB / filesystem failure (disk full, permissions)      -> exit 1, HTTP 503
  kBusy,        // ledger directory owned by another process                  -> exit 1, HTTP 503
  kLimit,       // a stated bound exceeded (event size, batch size, key length) -> exit 1, HTTP 413
  kUnauthenticated,  // no token, or an unknown or revoked one (service/auth.h)       -> HTTP 401
  kForbidden,  // a valid caller outside its role (service/auth.h)             -> exit 1, HTTP 403
};

const char* CodeName(Code code);

// An error: a code, a message for people, and where known the seq it concerns.
struct Error {
  Code code = Code::kInvalid;
  std::string message;
  uint64_t seq = 0;              // the event concerned, 0 when none
  uint32_t current_version = 0;  // for kConflict on expected version: the stream's version

  static Error Invalid(std::string m) { return {Code::kInvalid, std::move(m)}; }
  static Error NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Error Refused(std::string m) { return {Code::kRefused, std::move(m)}; }
  static Error Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Error Corruption(std::string m, uint64_t seq = 0) {
    return {Code::kCorruption, std::move(m), seq};
  }
  static Error Io(std::string m) { return {Code::kIo, std::move(m)}; }
  static Error Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Error Limit(std::string m) { return {Code::kLimit, std::move(m)}; }
};

// Result<T>: a value or an Error. Check ok() before value(); value() on an error asserts.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Status: success or an Error (Result without a value).
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}
  static Status Ok() { return Status(); }
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

// Propagate an error from a Status/Result expression.
#define HB_TRY(expr)                           \
  do {                                         \
    auto hb_try_ = (expr);                     \
    if (!hb_try_.ok()) return hb_try_.error(); \
  } while (0)

}  // namespace hourbank
