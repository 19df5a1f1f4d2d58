// SPDX-License-Identifier: GPL-2.0
// The guest suite's main: GoogleTest's, plus a report in TAP version 13
// for harness/check (read by harness/tap-results) when SEEK_TEST_TAP names
// a file.
//
// One test line per case as it ends, flushed at once (a guest that dies
// leaves the cases that finished, and no plan: an incomplete report), the
// plan "1..N" last. Each case has a YAML block: its kind (unchanged for a
// suite named Unchanged*, whatever its instantiation prefix; told for a
// case with the property expect_kernel, which kernel_has_series() records;
// map otherwise: harness/check turns a map test's verdict around on the
// unpatched kernel; setup for a failure outside any case, in a suite's or
// the program's set-up or tear-down, never turned around), duration_ms, its properties, and for a failure each
// failure message ("file:line" then the message) in the list failures.
// A skip's reason follows "# SKIP" on the test line, without the tests'
// own "SKIP:" prefix. A failure outside any case (SetUpTestSuite, an
// environment) is a case of its own, SUITE.[suite] or [program].
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

// One line: a message's line breaks and runs of blanks become one blank.
std::string one_line(const std::string &s)
{
	std::string out;
	bool blank = false;
	for (char c : s) {
		if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
			blank = !out.empty();
			continue;
		}
		if (blank)
			out += ' ';
		blank = false;
		out += c;
	}
	return out;
}

// A YAML scalar in double quotes (values may hold ': ', '#' and quotes).
std::string quoted(const std::string &s)
{
	std::string out = "\"";
	for (char c : s) {
		if (c == '"' || c == '\\')
			out += '\\';
		if (c == '\n') {
			out += "\\n";
			continue;
		}
		out += c;
	}
	return out + "\"";
}

class TapListener : public ::testing::EmptyTestEventListener {
public:
	explicit TapListener(const std::string &path) : out_(path, std::ios::trunc)
	{
		out_ << "TAP version 13" << std::endl;
	}
	bool ok() const { return out_.good(); }

	void OnTestEnd(const ::testing::TestInfo &t) override
	{
		if (!t.should_run())
			return;
		std::string suite = t.test_suite_name();
		std::string base = suite.substr(suite.rfind('/') + 1);
		const ::testing::TestResult &r = *t.result();
		bool told = false;
		for (int i = 0; i < r.test_property_count(); i++)
			told |= std::string(r.GetTestProperty(i).key()) == "expect_kernel";
		const char *kind = base.rfind("Unchanged", 0) == 0 ? "unchanged"
				   : told			    ? "told"
								    : "map";
		emit(suite + "." + t.name(), r, kind);
	}

	void OnTestSuiteEnd(const ::testing::TestSuite &s) override
	{
		const ::testing::TestResult &r = s.ad_hoc_test_result();
		if (r.Failed())
			emit(std::string(s.name()) + ".[suite]", r, "setup");
	}

	void OnTestProgramEnd(const ::testing::UnitTest &u) override
	{
		const ::testing::TestResult &r = u.ad_hoc_test_result();
		if (r.Failed())
			emit("[program]", r, "setup");
		out_ << "1.." << n_ << std::endl;
	}

private:
	void emit(const std::string &name, const ::testing::TestResult &r, const char *kind)
	{
		std::string skip;
		std::vector<std::string> failures;
		for (int i = 0; i < r.total_part_count(); i++) {
			const ::testing::TestPartResult &p = r.GetTestPartResult(i);
			std::string where = p.file_name() ? p.file_name() : "unknown file";
			if (p.line_number() >= 0)
				where += ":" + std::to_string(p.line_number());
			if (p.failed())
				failures.push_back(where + "\n" + p.message());
			else if (p.skipped() && skip.empty())
				skip = one_line(p.message());
		}
		if (skip.rfind("SKIP:", 0) == 0)
			skip = one_line(skip.substr(5));
		bool failed = r.Failed();
		n_++;
		out_ << (failed ? "not ok " : "ok ") << n_ << " " << name;
		if (!failed && r.Skipped())
			out_ << " # SKIP" << (skip.empty() ? "" : " " + skip);
		out_ << "\n  ---\n  kind: " << kind
		     << "\n  duration_ms: " << r.elapsed_time() << "\n";
		if (r.test_property_count()) {
			out_ << "  properties:\n";
			for (int i = 0; i < r.test_property_count(); i++) {
				const ::testing::TestProperty &p = r.GetTestProperty(i);
				out_ << "    " << p.key() << ": " << quoted(p.value()) << "\n";
			}
		}
		if (!failures.empty()) {
			out_ << "  failures:\n";
			for (const std::string &f : failures) {
				out_ << "    - |\n";
				std::istringstream in(f);
				for (std::string line; std::getline(in, line);)
					out_ << "      " << line << "\n";
			}
		}
		out_ << "  ..." << std::endl;
	}

	std::ofstream out_;
	int n_ = 0;
};

} // namespace

int main(int argc, char **argv)
{
	::testing::InitGoogleTest(&argc, argv);
	const char *tap = std::getenv("SEEK_TEST_TAP");
	if (tap && *tap) {
		auto *l = new TapListener(tap);
		if (!l->ok()) {
			std::cerr << "SEEK_TEST_TAP=" << tap << ": cannot write\n";
			delete l;
			return 2;
		}
		// The listener list owns it.
		::testing::UnitTest::GetInstance()->listeners().Append(l);
	}
	return RUN_ALL_TESTS();
}
