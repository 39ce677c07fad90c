// tests/png_decode.hpp — just enough PNG to check a screenshot: 8-bit RGB or RGBA,
// not interlaced (what headless Chromium writes), inflated with zlib. Used by
// tests/test_lanes_cli.cpp to look for the bars of the report's charts.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace lanes_cli_test {

/// A decoded 8-bit RGB or RGBA PNG (what Chromium writes), as RGBA.
struct Image {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgba;
  const std::uint8_t* at(int x, int y) const {
    return &rgba[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) * 4];
  }
};

inline std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

/// Decodes a non-interlaced, 8-bit, RGB or RGBA PNG; returns false for anything else.
inline bool decode_png(const std::string& file, Image& img) {
  const auto* p = reinterpret_cast<const unsigned char*>(file.data());
  if (file.size() < 8 || std::memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0) return false;
  std::size_t pos = 8;
  int depth = 0, color = 0, interlace = 0;
  std::string idat;
  while (pos + 8 <= file.size()) {
    const std::uint32_t len = be32(p + pos);
    const std::string type(file, pos + 4, 4);
    if (pos + 12 + len > file.size()) return false;
    const unsigned char* data = p + pos + 8;
    if (type == "IHDR") {
      img.width = static_cast<int>(be32(data));
      img.height = static_cast<int>(be32(data + 4));
      depth = data[8];
      color = data[9];
      interlace = data[12];
    } else if (type == "IDAT") {
      idat.append(reinterpret_cast<const char*>(data), len);
    } else if (type == "IEND") {
      break;
    }
    pos += 12 + len;
  }
  if (depth != 8 || (color != 2 && color != 6) || interlace != 0 || img.width <= 0) return false;
  const int channels = color == 6 ? 4 : 3;
  const std::size_t stride = static_cast<std::size_t>(img.width) * channels;
  std::vector<std::uint8_t> raw((stride + 1) * static_cast<std::size_t>(img.height));
  uLongf raw_len = raw.size();
  if (uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK ||
      raw_len != raw.size())
    return false;
  std::vector<std::uint8_t> px(stride * static_cast<std::size_t>(img.height));
  for (int y = 0; y < img.height; ++y) {
    const std::uint8_t filter = raw[static_cast<std::size_t>(y) * (stride + 1)];
    const std::uint8_t* src = &raw[static_cast<std::size_t>(y) * (stride + 1) + 1];
    std::uint8_t* row = &px[static_cast<std::size_t>(y) * stride];
    const std::uint8_t* up = y ? row - stride : nullptr;
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= static_cast<std::size_t>(channels) ? row[i - channels] : 0;
      const int b = up ? up[i] : 0;
      const int c = (up && i >= static_cast<std::size_t>(channels)) ? up[i - channels] : 0;
      int pred = 0;
      switch (filter) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) / 2; break;
        case 4: {
          const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
          pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
          break;
        }
        default: return false;
      }
      row[i] = static_cast<std::uint8_t>(src[i] + pred);
    }
  }
  img.rgba.resize(static_cast<std::size_t>(img.width) * static_cast<std::size_t>(img.height) * 4);
  for (std::size_t i = 0, n = static_cast<std::size_t>(img.width) * static_cast<std::size_t>(img.height); i < n; ++i) {
    for (int ch = 0; ch < 3; ++ch) img.rgba[i * 4 + static_cast<std::size_t>(ch)] = px[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(ch)];
    img.rgba[i * 4 + 3] = channels == 4 ? px[i * 4 + 3] : 255;
  }
  return true;
}

}  // namespace lanes_cli_test
