// CBOR (RFC 8949) items over Debian's libcbor 0.8, written in the core
// deterministic encoding of RFC 8949 §4.2.1: integers, lengths and tags in
// their shortest form, definite lengths only, map keys sorted by the
// bytewise lexicographic order of their encodings, no duplicate keys.
// libcbor serialises lengths and tags shortest already; what it lacks, and
// this file adds, is the choice of the shortest integer width (libcbor keeps
// the width an item was built with) and the map key order. docs/corim.md says
// why libcbor and what was checked.
//
// Reading (cbor_decode) is strict: the whole input must be one item of
// definite lengths, at most kCborMaxDepth deep; errors name the source and
// the byte offset libcbor stopped at.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/digest.h"

struct cbor_item_t;

namespace mkguest::attest::cbor {

// One CBOR data item (shared, immutable once built).
class Item {
 public:
  Item() = default;
  ~Item();
  Item(const Item& o);
  Item& operator=(const Item& o);
  Item(Item&& o) noexcept;
  Item& operator=(Item&& o) noexcept;

  // Takes over one reference to `raw` (a libcbor item).
  static Item adopt(cbor_item_t* raw);
  cbor_item_t* raw() const { return raw_; }
  bool empty() const { return raw_ == nullptr; }

 private:
  cbor_item_t* raw_ = nullptr;
};

Item uint(std::uint64_t v);
Item integer(std::int64_t v);
Item bytes(std::span<const std::uint8_t> b);
Item text(std::string_view s);
Item boolean(bool b);
Item array(std::vector<Item> items);
// A map; its keys are put in the deterministic order. Throws ValueError on a duplicate key.
Item map(std::vector<std::pair<Item, Item>> entries);
Item tag(std::uint64_t number, Item content);

// The deterministic encoding of `item`.
Bytes encode(const Item& item);

inline constexpr int kCborMaxDepth = 32;

// Decodes exactly one item from `data` (InputError naming `source` at the
// offset of the fault: malformed, trailing bytes, indefinite length, too deep).
// `base`: the offset of data[0] in the source, for the errors' offsets.
// libcbor 0.8 refuses the one-byte tag heads 0xc6..0xd4 (tags 6 to 20) as
// malformed; a caller that expects such a tag reads its head itself.
Item decode(std::span<const std::uint8_t> data, const std::string& source, std::uint64_t base = 0);

// Accessors of decoded items (nullptr / false when the item has another type).
bool is_tag(const Item& i, std::uint64_t number);
bool is_map(const Item& i);
Item tag_content(const Item& i);
std::vector<Item> array_items(const Item& i);  // empty when not an array
std::vector<std::pair<Item, Item>> map_entries(const Item& i);
bool get_bytes(const Item& i, Bytes* out);
bool get_text(const Item& i, std::string* out);
bool get_int(const Item& i, std::int64_t* out);
// The value under integer key `key` in a map item (empty Item when absent).
Item map_get(const Item& m, std::int64_t key);

}  // namespace mkguest::attest::cbor
