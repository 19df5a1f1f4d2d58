// SPDX-License-Identifier: GPL-2.0
// fmt's formatting with printf's way of failing: what cannot be written
// sets the stream's error flag (ferror) and nothing is thrown, where
// fmt::print throws std::system_error (a closed stderr, a full disk under
// stdout) and would end the program in std::terminate.
#pragma once

#include <cstdio>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace utils {

template <typename... Args>
void print(std::FILE *f, fmt::format_string<Args...> format, Args &&...args)
{
	std::string s = fmt::format(format, std::forward<Args>(args)...);
	fwrite(s.data(), 1, s.size(), f);
}

} // namespace utils
