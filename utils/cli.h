// SPDX-License-Identifier: GPL-2.0
// The command lines of seekmap, holecopy and stress, on cxxopts: it knows
// the options (names, aliases, short letters, which take a value), splits
// the command line (--name=V and --name V, -qh, "--" ending the options)
// and leaves the operands in order; each option's function gets its value
// as the option is met, in command-line order, as in a getopt loop: a
// later option overrides an earlier one (--copy-range --no-copy-range), a
// bad value ends the parse at once, and --help wins only over what comes
// after it.
//
// Usage errors are thrown as cli::Usage ("unknown option --x", "option
// --offset needs a value", "option --json takes no value", or what an
// option's function says); the program prints "PROGRAM: MESSAGE" and its
// short usage on stderr and exits 2. --help throws cli::Help.
#pragma once

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <cxxopts.hpp>

namespace cli {

// A usage error: what() is the message, without the program's name.
struct Usage : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// --help was given: print the help on stdout and exit 0.
struct Help {};

// One option as cxxopts stores it: cxxopts hands every value, or the
// implicit mark of an option given without one, to parse_value() below.
struct Arg {
	std::string name;	// "--offset", for messages
	bool takes_value = false;
	bool implicit = false;	// the value is optional (--name=V only)
	std::function<void(const std::string *)> fn;
	std::vector<std::string> longs;	// its long names
};

// What cxxopts passes for an option given without a value: no argv
// string holds a NUL, so no command line can spell it.
inline const std::string &no_value()
{
	static const std::string mark("\0no value", 9);
	return mark;
}

inline void parse_value(const std::string &text, Arg &a)
{
	if (text == no_value())
		a.fn(nullptr);
	else if (!a.takes_value)
		throw Usage("option " + a.name + " takes no value");
	else
		a.fn(&text);
}

class Parser {
public:
	explicit Parser(const std::string &program) : options_(program) {}
	// cxxopts keeps pointers to the options' Args.
	Parser(const Parser &) = delete;
	Parser &operator=(const Parser &) = delete;

	// An option without a value: --name (or -n); --name=V is an error.
	// @names as cxxopts spells them: "q,quiet", "destination-is-zero,
	// dst-is-zeroed" (aliases).
	Parser &flag(const std::string &names, std::function<void()> fn)
	{
		add(names, false, true, [fn](const std::string *) { fn(); });
		return *this;
	}
	// An option with a value: --name=V or --name V.
	Parser &value(const std::string &names,
		      std::function<void(const std::string &)> fn)
	{
		add(names, true, false,
		    [fn](const std::string *v) { fn(*v); });
		return *this;
	}
	// An option whose value is optional, given only as --name=V:
	// "--name V" leaves V an operand. @fn gets nullptr without one.
	Parser &optional(const std::string &names,
			 std::function<void(const std::string *)> fn)
	{
		add(names, true, true, std::move(fn));
		return *this;
	}

	// Parse argv, calling the options' functions; the operands, in
	// order. Throws Usage or Help.
	std::vector<std::string> parse(int argc, const char *const *argv)
	{
		std::vector<std::string> args(argv, argv + argc);
		std::vector<std::string> ambiguous;
		expand_prefixes(args, ambiguous);
		std::vector<const char *> v;
		for (const std::string &a : args)
			v.push_back(a.c_str());
		try {
			return options_.parse(argc, v.data()).unmatched();
		} catch (const cxxopts::exceptions::no_such_option &e) {
			std::string n = quoted(e);
			check_ambiguous(ambiguous, n);
			throw Usage("unknown option " + dashed(n));
		} catch (const cxxopts::exceptions::invalid_option_syntax &e) {
			// Such as "--s=1": cxxopts takes no one-letter long name.
			std::string a = quoted(e);
			if (!a.compare(0, 2, "--"))
				check_ambiguous(ambiguous,
						a.substr(2, a.find('=') - 2));
			throw Usage("unknown option " + a);
		} catch (const cxxopts::exceptions::missing_argument &e) {
			throw Usage("option " + dashed(quoted(e)) +
				    " needs a value");
		} catch (const cxxopts::exceptions::option_requires_argument &e) {
			throw Usage("option " + dashed(quoted(e)) +
				    " needs a value");
		} catch (const cxxopts::exceptions::parsing &e) {
			throw Usage(e.what());
		}
	}

private:
	cxxopts::Options options_;
	std::list<Arg> args_;	// cxxopts keeps pointers into it

	void add(const std::string &names, bool takes_value, bool implicit,
		 std::function<void(const std::string *)> fn)
	{
		// The first long name (or the letter) names it in messages.
		std::string name, n;
		std::vector<std::string> longs;
		std::stringstream ss(names);
		while (std::getline(ss >> std::ws, n, ',')) {
			if (name.empty() || (name.size() == 2 && n.size() > 1))
				name = dashed(n);
			if (n.size() > 1)
				longs.push_back(n);
		}
		args_.push_back({name, takes_value, implicit, std::move(fn),
				 std::move(longs)});
		auto v = cxxopts::value<Arg>(args_.back());
		if (implicit)
			v->implicit_value(no_value());
		options_.add_options()(names, "", v);
	}

	// getopt_long's abbreviations, which cxxopts lacks: a long option
	// may be given by a prefix of its name (--verify-o, --off=1M) that no
	// other option's name starts with; spelt out here. Prefixes of two
	// options are left for cxxopts to refuse, and named in @ambiguous.
	// The value of --name V is skipped, as getopt takes it whatever it is.
	void expand_prefixes(std::vector<std::string> &args,
			     std::vector<std::string> &ambiguous) const
	{
		for (size_t i = 1; i < args.size(); i++) {
			std::string &a = args[i];
			if (a == "--")
				break;
			if (a.size() < 3 || a.compare(0, 2, "--"))
				continue;
			size_t eq = a.find('=');
			std::string n = a.substr(2, eq == std::string::npos ?
							   eq : eq - 2);
			if (n.empty())
				continue;
			std::string full;
			bool several = false;
			const Arg *arg = lookup(n, &full, &several);
			if (several) {
				ambiguous.push_back(n);
				continue;
			}
			if (!arg)
				continue;
			a.replace(2, n.size(), full);
			if (eq == std::string::npos && arg->takes_value &&
			    !arg->implicit)
				i++;
		}
	}

	// Whether @n is one of the @ambiguous prefixes: say so.
	static void check_ambiguous(const std::vector<std::string> &ambiguous,
				    const std::string &n)
	{
		for (const std::string &a : ambiguous)
			if (a == n)
				throw Usage("option --" + n + " is ambiguous");
	}

	// The option named @n, or else the one whose names @n starts (the
	// first such name in @full); @several when more than one does.
	const Arg *lookup(const std::string &n, std::string *full,
			  bool *several) const
	{
		const Arg *arg = nullptr;
		for (const Arg &o : args_)
			for (const std::string &l : o.longs) {
				if (l == n) {
					*full = l;
					*several = false;
					return &o;
				}
				if (l.compare(0, n.size(), n))
					continue;
				if (arg && arg != &o)
					*several = true;
				if (!arg) {
					arg = &o;
					*full = l;
				}
			}
		return arg;
	}

	static std::string dashed(const std::string &n)
	{
		return (n.size() == 1 ? "-" : "--") + n;
	}

	// The name or argument cxxopts quotes in its message.
	static std::string quoted(const std::exception &e)
	{
		std::string m = e.what();
		size_t a = m.find(cxxopts::LQUOTE);
		size_t b = m.rfind(cxxopts::RQUOTE);
		if (a == std::string::npos || b == std::string::npos || b < a)
			return m;
		a += cxxopts::LQUOTE.size();
		return m.substr(a, b - a);
	}
};

// The whole of @text as a number in [@min, @max], with strtoull's @base
// (0: 0x... hex, 0... octal, else decimal): no sign, no blanks, nothing
// after it. @what names it in the message: "--seconds=abc".
inline uint64_t number(const std::string &what, const std::string &text,
		       uint64_t min, uint64_t max, int base = 10)
{
	auto range = [&] {
		return Usage(what + ": out of range (" + std::to_string(min) +
			     " to " + std::to_string(max) + ")");
	};
	if (text.size() > 1 && text[0] == '-' &&
	    isdigit(static_cast<unsigned char>(text[1])))
		throw range();
	if (text.empty() || !isdigit(static_cast<unsigned char>(text[0])))
		throw Usage(what + ": not a number");
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text.c_str(), &end, base);
	if (*end)
		throw Usage(what + ": not a number");
	if (errno == ERANGE || v < min || v > max)
		throw range();
	return v;
}

} // namespace cli
