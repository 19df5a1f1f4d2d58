// SPDX-License-Identifier: GPL-2.0
// stress: a bounded concurrent stress run of SEEK_DATA/SEEK_HOLE on block
// devices (run it as root in the test guest; `make stress` does).
//
// Map walkers walk whole devices (loop devices, partitions, dm linear,
// stripe and zero tables, thin volumes with and without an external
// origin, thin snapshots) while mutators reconfigure them: dm reload,
// suspend, resume, remove and create again; LOOP_CHANGE_FD,
// LOOP_SET_STATUS64, LOOP_CLR_FD and LOOP_CONFIGURE; backing file growth
// (LOOP_SET_CAPACITY) and truncation; thin writes, discards, snapshot
// creation and deletion, pool suspends; RAM disks (brd, zram with
// writeback to a slow device and recompression, null_blk power cycles),
// dm-snapshot with merges, scsi_debug with injected GET LBA STATUS errors
// and disk deletion. On every walk, the regions that
// no worker changes must have exactly their ground-truth map and their
// holes must read back as zeros; every answer anywhere must be well-formed
// (see check.h). When the time is up the workers stop and every device's
// whole map must equal its ground truth (the backing files' own maps,
// the tables, thin_dump).
//
// The last line counts: "stress: S s, walks N, operations N, holes read
// back N, wrong answers N". Exit status: 0 when all answers were right,
// 1 on a wrong answer, 2 when the run itself failed (setup, an operation
// that should have worked, a device left behind), 3 when a worker hung.
// Kernel reports (KASAN, lockdep, WARN, hung tasks, kmemleak) are the
// guest runner's to see: harness/stress adds them to the line.
//
// In the test guest only, --reboot-on-hang resets the guest (sysrq b) when
// workers hang in the kernel (after dumping the blocked tasks and writing
// the counts): such a process cannot exit, and the guest would wait for
// it until the runner's timeout.
//
// Self-check: --self-check=map corrupts the ground truth of one stable
// region for one walk of the loop-grow device, --self-check=readback reads
// one of its data extents back as if it had been reported as a hole; each
// must give "wrong answers 1" and exit status 1. With :LABEL,...
// (--self-check=map:brd,zram) each device labelled so instead, one wrong
// answer each; without loop-grow in the run (--only), the first device
// set up.
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <getopt.h>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "scenarios.h"

using namespace stress;

namespace {

using Clock = std::chrono::steady_clock;

// What a worker is doing, for the hang watchdog.
struct Worker {
	std::string name;
	std::atomic<int64_t> busy_since{0}; // ms since start, 0 when idle
	std::atomic<bool> done{false};
	std::mutex mu;
	std::string doing;
	std::thread thread;

	void begin(const std::string &what, int64_t now_ms)
	{
		{
			std::lock_guard<std::mutex> l(mu);
			doing = what;
		}
		busy_since = now_ms;
	}
	void end() { busy_since = 0; }
	std::string what()
	{
		std::lock_guard<std::mutex> l(mu);
		return doing;
	}
};

const Clock::time_point start_time = Clock::now();

int64_t now_ms()
{
	return std::chrono::duration_cast<std::chrono::milliseconds>(
		       Clock::now() - start_time).count() + 1;
}

void on_signal(int)
{
	stop_flag = true;
}

void sysrq(char c)
{
	int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, &c, 1) != 1)
			perror("sysrq-trigger");
		close(fd);
	}
}

// Dump the stacks of the tasks in D state into the kernel log.
void sysrq_blocked_tasks()
{
	sysrq('w');
}

// The last line: the run's time (the time asked, or how long it ran if
// it stopped early) and the counts.
std::string counts_line(int seconds, int64_t start_ms, int64_t end_ms)
{
	std::string time = std::to_string(seconds) + " s";
	if (!start_ms)
		time = "0 s of " + time;
	else if (end_ms - start_ms < seconds * 1000LL - 1000)
		time = std::to_string((end_ms - start_ms) / 1000) + " s of " + time;
	char line[256];
	snprintf(line, sizeof(line),
		 "stress: %s, walks %" PRIu64 ", operations %" PRIu64
		 ", holes read back %" PRIu64 ", wrong answers %" PRIu64,
		 time.c_str(), counts.walks.load(), counts.operations.load(),
		 counts.holes_read.load(), counts.wrong.load());
	return line;
}

void write_summary(const std::string &file, const std::string &line)
{
	if (file.empty())
		return;
	int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(file.c_str());
		return;
	}
	std::string s = line + "\nerrors " +
			std::to_string(counts.errors.load()) + "\n";
	if (write(fd, s.data(), s.size()) != ssize_t(s.size()) || fsync(fd))
		perror(file.c_str());
	close(fd);
}

void usage()
{
	fprintf(stderr,
		"usage: stress [--seconds=S] [--walkers=N] [--seed=N]\n"
		"              [--only=SCENARIO,...] [--summary=FILE]\n"
		"              [--self-check=map|readback[:LABEL,...]] [--reboot-on-hang]\n"
		"              [--scsi-debug-ko=PATH]\n"
		"scenarios:");
	for (const std::string &n : scenario_names())
		fprintf(stderr, " %s", n.c_str());
	fprintf(stderr, "\n");
	exit(2);
}

} // namespace

int main(int argc, char **argv)
{
	int seconds = 600, walkers = 3;
	uint64_t seed = static_cast<uint64_t>(time(nullptr)) ^ getpid();
	std::string summary_file, only, self_check_label;
	SelfCheck self_check = SelfCheck::none;
	bool reboot_on_hang = false;

	static const struct option opts[] = {
		{"seconds", required_argument, nullptr, 's'},
		{"walkers", required_argument, nullptr, 'w'},
		{"seed", required_argument, nullptr, 'r'},
		{"only", required_argument, nullptr, 'o'},
		{"summary", required_argument, nullptr, 'S'},
		{"self-check", required_argument, nullptr, 'c'},
		{"reboot-on-hang", no_argument, nullptr, 'R'},
		{"scsi-debug-ko", required_argument, nullptr, 'K'},
		{nullptr, 0, nullptr, 0},
	};
	for (int c; (c = getopt_long(argc, argv, "", opts, nullptr)) != -1;) {
		switch (c) {
		case 's': seconds = atoi(optarg); break;
		case 'w': walkers = atoi(optarg); break;
		case 'r': seed = strtoull(optarg, nullptr, 0); break;
		case 'o': only = optarg; break;
		case 'S': summary_file = optarg; break;
		case 'R': reboot_on_hang = true; break;
		case 'K': scsi_debug_ko = optarg; break;
		case 'c': {
			// map or readback, optionally :LABEL (a target's label)
			std::string a = optarg;
			size_t colon = a.find(':');
			if (colon != std::string::npos) {
				self_check_label = a.substr(colon + 1);
				a.resize(colon);
			}
			if (a == "map")
				self_check = SelfCheck::map;
			else if (a == "readback")
				self_check = SelfCheck::readback;
			else
				usage();
			break;
		}
		default: usage();
		}
	}
	if (optind != argc || seconds < 1 || walkers < 1)
		usage();

	std::vector<std::string> names;
	if (only.empty()) {
		names = scenario_names();
	} else {
		std::stringstream ss(only);
		for (std::string n; std::getline(ss, n, ',');)
			names.push_back(n);
	}

	setvbuf(stdout, nullptr, _IOLBF, 0);
	printf("stress: seed %" PRIu64 " (--seed=%" PRIu64
	       " builds the same layouts), %d s, %d walkers\n",
	       seed, seed, seconds, walkers);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	const auto loops_before = bound_loop_devices();
	const auto dms_before = dm_devices();
	Registry reg;
	std::vector<std::unique_ptr<Scenario>> scenarios;
	std::vector<std::unique_ptr<Worker>> workers;
	bool hung = false;
	int64_t run_start = 0, run_end = 0;
	Rng rng(seed);

	try {
		for (const std::string &n : names) {
			printf("stress: setting up %s\n", n.c_str());
			auto sc = make_scenario(n, reg, rng);
			if (!sc)
				continue;
			scenarios.push_back(std::move(sc));
			for (auto &t : scenarios.back()->targets)
				reg.add(t);
		}
		if (self_check != SelfCheck::none) {
			// loop-grow's device unless labels were given; without
			// loop-grow in the run, the first device set up.
			auto all = reg.all();
			std::vector<std::string> labels;
			std::stringstream ss(self_check_label);
			for (std::string l; std::getline(ss, l, ',');)
				labels.push_back(l);
			if (labels.empty()) {
				for (auto &t : all)
					if (labels.empty() && t->label == "loop-grow")
						labels.push_back(t->label);
				if (labels.empty() && !all.empty())
					labels.push_back(all.front()->label);
			}
			for (const std::string &label : labels) {
				bool have = false;
				for (auto &t : all)
					have |= t->label == label && !t->stable.empty();
				if (!have)
					throw std::runtime_error("--self-check: no device labelled '" +
								 label + "' with stable regions");
				printf("stress: self-check (%s) on %s\n",
				       self_check == SelfCheck::map ? "map" : "readback",
				       label.c_str());
				arm_self_check(self_check, label);
			}
		}

		// A first, quiet walk of everything.
		Walker first(rng());
		for (auto &t : reg.all())
			first.walk(*t);

		for (int i = 0; i < walkers; i++) {
			auto w = std::make_unique<Worker>();
			w->name = "walker " + std::to_string(i);
			Worker *wp = w.get();
			uint64_t s = rng();
			w->thread = std::thread([wp, s, &reg] {
				try {
					Walker walker(s);
					Rng r(s);
					while (!stop_flag) {
						auto t = reg.pick(r);
						if (!t)
							break;
						wp->begin("walking " + t->label, now_ms());
						walker.walk(*t);
						wp->end();
					}
				} catch (const std::exception &e) {
					run_error(wp->name + ": " + e.what());
					stop_flag = true;
				}
				wp->done = true;
			});
			workers.push_back(std::move(w));
		}
		for (auto &sc : scenarios) {
			for (int m = 0; m < sc->mutators(); m++) {
				auto w = std::make_unique<Worker>();
				w->name = std::string(sc->name()) + " mutator " + std::to_string(m);
				Worker *wp = w.get();
				Scenario *scp = sc.get();
				uint64_t s = rng();
				w->thread = std::thread([wp, scp, m, s] {
					Rng r(s);
					try {
						while (!stop_flag) {
							wp->begin(wp->name, now_ms());
							counts.operations += scp->mutate(m, r);
							wp->end();
							// Leave the walkers CPU time.
							nap(r, 10, 100);
						}
					} catch (const std::exception &e) {
						run_error(wp->name + ": " + e.what());
						stop_flag = true;
					}
					wp->done = true;
				});
				workers.push_back(std::move(w));
			}
		}

		// Run for the time asked; a worker stuck in one operation for
		// two minutes is a hang.
		run_start = now_ms();
		const int64_t deadline = run_start + seconds * 1000LL;
		const int64_t hang_ms = 120 * 1000;
		int64_t next_report = now_ms() + 60 * 1000;
		while (!stop_flag && now_ms() < deadline) {
			std::this_thread::sleep_for(std::chrono::milliseconds(200));
			int64_t now = now_ms();
			for (auto &w : workers) {
				int64_t b = w->busy_since;
				if (b && now - b > hang_ms && !hung) {
					hung = true;
					run_error(w->name + " stuck for " +
						  std::to_string((now - b) / 1000) +
						  " s in: " + w->what());
					sysrq_blocked_tasks();
					stop_flag = true;
				}
			}
			if (now >= next_report) {
				printf("stress: %" PRId64 " s: walks %" PRIu64
				       ", operations %" PRIu64 ", wrong answers %" PRIu64 "\n",
				       now / 1000, counts.walks.load(),
				       counts.operations.load(), counts.wrong.load());
				next_report += 60 * 1000;
			}
		}
		stop_flag = true;
		run_end = now_ms();

		// Every worker ends its operation and stops.
		const int64_t grace = now_ms() + hang_ms;
		for (;;) {
			bool all = true;
			for (auto &w : workers)
				all &= w->done.load();
			if (all)
				break;
			if (now_ms() > grace) {
				for (auto &w : workers)
					if (!w->done)
						run_error(w->name + " did not stop; in: " + w->what());
				sysrq_blocked_tasks();
				std::string line = counts_line(seconds, run_start, run_end) +
						   " (workers hung: devices left behind)";
				printf("%s\n", line.c_str());
				fflush(stdout);
				write_summary(summary_file, line);
				// A thread stuck in the kernel keeps the process
				// from exiting, and the guest from ending.
				if (reboot_on_hang) {
					printf("stress: --reboot-on-hang: resetting the guest\n");
					fflush(stdout);
					sysrq('b');
				}
				_exit(3);
			}
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		}
		for (auto &w : workers)
			w->thread.join();

		// Quiet now: every whole map must be exact.
		if (counts.errors == 0) {
			printf("stress: quiet checks\n");
			Walker last(rng());
			for (auto &sc : scenarios)
				sc->quiet_check(last);
		}
	} catch (const std::exception &e) {
		run_error(e.what());
		stop_flag = true;
		if (run_start && !run_end)
			run_end = now_ms();
		for (auto &w : workers)
			if (w->thread.joinable())
				w->thread.join();
	}

	// Tear down in reverse order of creation.
	while (!scenarios.empty())
		scenarios.pop_back();
	for (const std::string &l : bound_loop_devices())
		if (!loops_before.count(l))
			run_error("left " + l + " bound");
	for (const std::string &d : dm_devices())
		if (!dms_before.count(d))
			run_error("left " + d + " behind");

	print_targets(reg);
	printf("stress: judged %" PRIu64 " walks (%" PRIu64
	       " with data over a hole where a provider could not look), %" PRIu64
	       " overlapped a teardown, %" PRIu64 " found no device; read back %"
	       PRIu64 " MiB of holes; run errors %" PRIu64 "\n",
	       counts.checked.load(), counts.conservative.load(),
	       counts.torn.load(), counts.skipped.load(),
	       counts.bytes_read.load() >> 20, counts.errors.load());
	std::string line = counts_line(seconds, run_start, run_end);
	printf("%s\n", line.c_str());
	write_summary(summary_file, line);
	if (counts.wrong)
		return 1;
	if (hung)
		return 3;
	if (counts.errors)
		return 2;
	return 0;
}
