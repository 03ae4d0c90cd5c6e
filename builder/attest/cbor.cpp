// CBOR items over libcbor 0.8 in the core deterministic encoding; see cbor.h
// (RFC 8949 §4.2.1, §3: major types, argument widths, tags).
#include "builder/attest/cbor.h"

#include <cbor.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "base/error.h"

namespace mkguest::attest::cbor {

Item::~Item() {
  if (raw_) cbor_decref(&raw_);
}
Item::Item(const Item& o) : raw_(o.raw_ ? cbor_incref(o.raw_) : nullptr) {}
Item& Item::operator=(const Item& o) {
  if (this != &o) {
    Item copy(o);
    std::swap(raw_, copy.raw_);
  }
  return *this;
}
Item::Item(Item&& o) noexcept : raw_(std::exchange(o.raw_, nullptr)) {}
Item& Item::operator=(Item&& o) noexcept {
  std::swap(raw_, o.raw_);
  return *this;
}

Item Item::adopt(cbor_item_t* raw) {
  if (!raw) throw InternalError("libcbor: out of memory");
  Item i;
  i.raw_ = raw;
  return i;
}

namespace {

// libcbor writes an integer with the width its item was built with: pick the
// shortest (RFC 8949 §4.2.1: "0 to 23 ... in the same byte", then 1, 2, 4, 8).
cbor_item_t* build_uint(std::uint64_t v) {
  if (v <= 0xff) return cbor_build_uint8(static_cast<std::uint8_t>(v));
  if (v <= 0xffff) return cbor_build_uint16(static_cast<std::uint16_t>(v));
  if (v <= 0xffffffff) return cbor_build_uint32(static_cast<std::uint32_t>(v));
  return cbor_build_uint64(v);
}
cbor_item_t* build_negint(std::uint64_t n) {  // the value -1 - n
  if (n <= 0xff) return cbor_build_negint8(static_cast<std::uint8_t>(n));
  if (n <= 0xffff) return cbor_build_negint16(static_cast<std::uint16_t>(n));
  if (n <= 0xffffffff) return cbor_build_negint32(static_cast<std::uint32_t>(n));
  return cbor_build_negint64(n);
}

}  // namespace

Item uint(std::uint64_t v) { return Item::adopt(build_uint(v)); }
Item integer(std::int64_t v) {
  if (v >= 0) return uint(static_cast<std::uint64_t>(v));
  return Item::adopt(build_negint(static_cast<std::uint64_t>(-(v + 1))));
}
Item bytes(std::span<const std::uint8_t> b) {
  return Item::adopt(cbor_build_bytestring(b.data(), b.size()));
}
Item text(std::string_view s) { return Item::adopt(cbor_build_stringn(s.data(), s.size())); }
Item boolean(bool b) { return Item::adopt(cbor_build_bool(b)); }

Item array(std::vector<Item> items) {
  Item a = Item::adopt(cbor_new_definite_array(items.size()));
  for (const auto& i : items)
    if (!cbor_array_push(a.raw(), i.raw())) throw InternalError("libcbor: array push failed");
  return a;
}

Item map(std::vector<std::pair<Item, Item>> entries) {
  // RFC 8949 §4.2.1: keys sorted by the bytewise lexicographic order of
  // their deterministic encodings.
  std::vector<Bytes> keys;
  keys.reserve(entries.size());
  for (const auto& e : entries) keys.push_back(encode(e.first));
  std::vector<std::size_t> order(entries.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto cmp = [&](std::size_t a, std::size_t b) {
    const Bytes& x = keys[a];
    const Bytes& y = keys[b];
    std::size_t n = std::min(x.size(), y.size());
    for (std::size_t k = 0; k < n; ++k)
      if (x[k] != y[k]) return x[k] < y[k];
    return x.size() < y.size();
  };
  std::sort(order.begin(), order.end(), cmp);
  for (std::size_t k = 1; k < order.size(); ++k)
    if (keys[order[k]] == keys[order[k - 1]])
      throw ValueError("CBOR map has the key " + to_hex(keys[order[k]]) + " twice");
  Item m = Item::adopt(cbor_new_definite_map(entries.size()));
  for (std::size_t i : order) {
    cbor_pair p{entries[i].first.raw(), entries[i].second.raw()};
    if (!cbor_map_add(m.raw(), p)) throw InternalError("libcbor: map add failed");
  }
  return m;
}

Item tag(std::uint64_t number, Item content) {
  return Item::adopt(cbor_build_tag(number, content.raw()));
}

Bytes encode(const Item& item) {
  unsigned char* buf = nullptr;
  std::size_t cap = 0;
  std::size_t n = cbor_serialize_alloc(item.raw(), &buf, &cap);
  std::unique_ptr<unsigned char, decltype(&std::free)> owned(buf, &std::free);
  if (n == 0) throw InternalError("libcbor: serialisation failed");
  return Bytes(buf, buf + n);
}

// ---- reading ----------------------------------------------------------------

namespace {

// A pass over the input with libcbor's streaming decoder before cbor_load:
// refuses indefinite lengths and nesting deeper than kCborMaxDepth (libcbor
// frees items recursively), and finds where the one item ends.
struct Scan {
  std::vector<std::uint64_t> open;  // children still expected, per open container
  bool indefinite = false, too_deep = false;

  void item(std::uint64_t children) {
    if (!open.empty()) --open.back();
    if (children) {
      open.push_back(children);
      if (open.size() > static_cast<std::size_t>(kCborMaxDepth)) too_deep = true;
    }
    while (!open.empty() && open.back() == 0) open.pop_back();
  }
};

Scan* scan_of(void* ctx) { return static_cast<Scan*>(ctx); }
void on_leaf(void* ctx) { scan_of(ctx)->item(0); }
template <typename T>
void on_value(void* ctx, T) {
  scan_of(ctx)->item(0);
}
void on_data(void* ctx, cbor_data, uint64_t) { scan_of(ctx)->item(0); }
void on_indefinite(void* ctx) {
  scan_of(ctx)->indefinite = true;
  scan_of(ctx)->item(0);
}
void on_array(void* ctx, uint64_t n) { scan_of(ctx)->item(n); }
void on_map(void* ctx, uint64_t n) {
  // A map of n pairs has 2n children; more than the input can hold is malformed anyway.
  scan_of(ctx)->item(n > (UINT64_MAX / 2) ? UINT64_MAX : 2 * n);
}
void on_tag(void* ctx, uint64_t) { scan_of(ctx)->item(1); }

cbor_callbacks scan_callbacks() {
  cbor_callbacks c = cbor_empty_callbacks;
  c.uint8 = on_value<uint8_t>;
  c.uint16 = on_value<uint16_t>;
  c.uint32 = on_value<uint32_t>;
  c.uint64 = on_value<uint64_t>;
  c.negint8 = on_value<uint8_t>;
  c.negint16 = on_value<uint16_t>;
  c.negint32 = on_value<uint32_t>;
  c.negint64 = on_value<uint64_t>;
  c.byte_string = on_data;
  c.string = on_data;
  c.byte_string_start = on_indefinite;
  c.string_start = on_indefinite;
  c.indef_array_start = on_indefinite;
  c.indef_map_start = on_indefinite;
  c.indef_break = on_indefinite;
  c.array_start = on_array;
  c.map_start = on_map;
  c.tag = on_tag;
  c.float2 = on_value<float>;
  c.float4 = on_value<float>;
  c.float8 = on_value<double>;
  c.undefined = on_leaf;
  c.null = on_leaf;
  c.boolean = on_value<bool>;
  return c;
}

}  // namespace

Item decode(std::span<const std::uint8_t> data, const std::string& source, std::uint64_t base) {
  static const cbor_callbacks callbacks = scan_callbacks();
  Scan scan;
  std::size_t off = 0;
  do {
    if (off >= data.size()) throw offset_error(source, base + off, "CBOR item is truncated");
    cbor_decoder_result r =
        cbor_stream_decode(data.data() + off, data.size() - off, &callbacks, &scan);
    if (r.status == CBOR_DECODER_NEDATA)
      throw offset_error(source, base + off, "CBOR item is truncated");
    if (r.status != CBOR_DECODER_FINISHED || r.read == 0)
      throw offset_error(source, base + off, "malformed CBOR");
    if (scan.indefinite)
      throw offset_error(source, base + off,
                         "CBOR indefinite length (only definite lengths are read)");
    if (scan.too_deep)
      throw offset_error(source, base + off,
                         "CBOR nested deeper than " + std::to_string(kCborMaxDepth) + " levels");
    off += r.read;
  } while (!scan.open.empty());
  if (off != data.size()) throw offset_error(source, base + off, "bytes after the CBOR item");
  cbor_load_result res{};
  cbor_item_t* raw = cbor_load(data.data(), data.size(), &res);
  if (!raw || res.error.code != CBOR_ERR_NONE)
    throw offset_error(source, base + res.error.position, "malformed CBOR");
  return Item::adopt(raw);
}

bool is_tag(const Item& i, std::uint64_t number) {
  return !i.empty() && cbor_isa_tag(i.raw()) && cbor_tag_value(i.raw()) == number;
}

bool is_map(const Item& i) { return !i.empty() && cbor_isa_map(i.raw()); }

Item tag_content(const Item& i) {
  if (i.empty() || !cbor_isa_tag(i.raw())) return {};
  return Item::adopt(cbor_tag_item(i.raw()));  // libcbor returns a new reference
}

std::vector<Item> array_items(const Item& i) {
  std::vector<Item> out;
  if (i.empty() || !cbor_isa_array(i.raw())) return out;
  for (std::size_t k = 0; k < cbor_array_size(i.raw()); ++k)
    out.push_back(Item::adopt(cbor_array_get(i.raw(), k)));
  return out;
}

std::vector<std::pair<Item, Item>> map_entries(const Item& i) {
  std::vector<std::pair<Item, Item>> out;
  if (i.empty() || !cbor_isa_map(i.raw())) return out;
  cbor_pair* p = cbor_map_handle(i.raw());
  for (std::size_t k = 0; k < cbor_map_size(i.raw()); ++k)
    out.emplace_back(Item::adopt(cbor_incref(p[k].key)), Item::adopt(cbor_incref(p[k].value)));
  return out;
}

bool get_bytes(const Item& i, Bytes* out) {
  if (i.empty() || !cbor_isa_bytestring(i.raw()) || !cbor_bytestring_is_definite(i.raw()))
    return false;
  const unsigned char* h = cbor_bytestring_handle(i.raw());
  out->assign(h, h + cbor_bytestring_length(i.raw()));
  return true;
}

bool get_text(const Item& i, std::string* out) {
  if (i.empty() || !cbor_isa_string(i.raw()) || !cbor_string_is_definite(i.raw())) return false;
  const unsigned char* h = cbor_string_handle(i.raw());
  out->assign(reinterpret_cast<const char*>(h), cbor_string_length(i.raw()));
  return true;
}

bool get_int(const Item& i, std::int64_t* out) {
  if (i.empty() || !cbor_is_int(i.raw())) return false;
  std::uint64_t v = cbor_get_int(i.raw());
  if (v > static_cast<std::uint64_t>(INT64_MAX)) return false;
  *out = cbor_isa_uint(i.raw()) ? static_cast<std::int64_t>(v) : -1 - static_cast<std::int64_t>(v);
  return true;
}

Item map_get(const Item& m, std::int64_t key) {
  for (auto& [k, v] : map_entries(m)) {
    std::int64_t n = 0;
    if (get_int(k, &n) && n == key) return v;
  }
  return {};
}

}  // namespace mkguest::attest::cbor
