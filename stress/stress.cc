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
//
// The command line is options.cc's (--help lists the options and the
// scenarios; a bad one exits 2 before anything is set up); main() only
// runs the steps of a Run in order.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "options.h"
#include "scenarios.h"
#include "utils/print.h"

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

// A worker stuck in one operation this long is a hang.
constexpr int64_t hang_ms = 120 * 1000;

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
	std::string time = fmt::format("{} s", seconds);
	if (!start_ms)
		time = "0 s of " + time;
	else if (end_ms - start_ms < seconds * 1000LL - 1000)
		time = fmt::format("{} s of {}", (end_ms - start_ms) / 1000, time);
	return fmt::format("stress: {}, walks {}, operations {}, holes read back "
			   "{}, wrong answers {}",
			   time, counts.walks.load(), counts.operations.load(),
			   counts.holes_read.load(), counts.wrong.load());
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
	std::string s = fmt::format("{}\nerrors {}\n", line, counts.errors.load());
	if (write(fd, s.data(), s.size()) != ssize_t(s.size()) || fsync(fd))
		perror(file.c_str());
	close(fd);
}

// One run: its devices, its workers and its times.
class Run {
public:
	explicit Run(const Options &opt) : opt_(opt), rng_(opt.seed) {}

	void set_up();
	void arm_self_checks();
	void first_walk();
	void start_walkers();
	void start_mutators();
	void watch();
	void stop_workers();
	void quiet_checks();
	void failed(const std::string &what);
	void tear_down();
	int report();

private:
	const Options &opt_;
	Registry reg_;
	std::vector<std::unique_ptr<Scenario>> scenarios_;
	std::vector<std::unique_ptr<Worker>> workers_;
	Rng rng_;
	bool hung_ = false;
	int64_t start_ = 0, end_ = 0;

	Worker *add_worker(std::string name);
	void stuck();
};

// Each scenario builds its devices; their targets go to the walkers.
void Run::set_up()
{
	for (const std::string &n : opt_.scenarios) {
		utils::print(stdout, "stress: setting up {}\n", n);
		auto sc = make_scenario(n, reg_, rng_);
		if (!sc)
			continue;
		scenarios_.push_back(std::move(sc));
		for (auto &t : scenarios_.back()->targets)
			reg_.add(t);
	}
}

// --self-check: the devices labelled so; without labels loop-grow's
// device, or without loop-grow in the run the first device set up.
void Run::arm_self_checks()
{
	if (opt_.self_check == SelfCheck::none)
		return;
	auto all = reg_.all();
	std::vector<std::string> labels = opt_.self_check_labels;
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
		utils::print(stdout, "stress: self-check ({}) on {}\n",
			     opt_.self_check == SelfCheck::map ? "map" : "readback",
			     label);
		arm_self_check(opt_.self_check, label);
	}
}

// A first, quiet walk of everything.
void Run::first_walk()
{
	Walker first(rng_());
	for (auto &t : reg_.all())
		first.walk(*t);
}

Worker *Run::add_worker(std::string name)
{
	workers_.push_back(std::make_unique<Worker>());
	workers_.back()->name = std::move(name);
	return workers_.back().get();
}

void Run::start_walkers()
{
	for (int i = 0; i < opt_.walkers; i++) {
		Worker *wp = add_worker("walker " + std::to_string(i));
		uint64_t s = rng_();
		Registry &reg = reg_;
		wp->thread = std::thread([wp, s, &reg] {
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
	}
}

void Run::start_mutators()
{
	for (auto &sc : scenarios_) {
		for (int m = 0; m < sc->mutators(); m++) {
			Worker *wp = add_worker(std::string(sc->name()) +
						" mutator " + std::to_string(m));
			Scenario *scp = sc.get();
			uint64_t s = rng_();
			wp->thread = std::thread([wp, scp, m, s] {
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
		}
	}
}

// Run for the time asked, with the counts every minute; a worker stuck in
// one operation for hang_ms is a hang, and ends the run.
void Run::watch()
{
	start_ = now_ms();
	const int64_t deadline = start_ + opt_.seconds * 1000LL;
	int64_t next_report = now_ms() + 60 * 1000;
	while (!stop_flag && now_ms() < deadline) {
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
		int64_t now = now_ms();
		for (auto &w : workers_) {
			int64_t b = w->busy_since;
			if (b && now - b > hang_ms && !hung_) {
				hung_ = true;
				run_error(fmt::format("{} stuck for {} s in: {}",
						      w->name, (now - b) / 1000,
						      w->what()));
				sysrq_blocked_tasks();
				stop_flag = true;
			}
		}
		if (now >= next_report) {
			utils::print(stdout, "stress: {} s: walks {}, operations "
				     "{}, wrong answers {}\n", now / 1000,
				     counts.walks.load(), counts.operations.load(),
				     counts.wrong.load());
			next_report += 60 * 1000;
		}
	}
	stop_flag = true;
	end_ = now_ms();
}

// Every worker ends its operation and stops; one that does not within
// hang_ms ends the process (stuck()).
void Run::stop_workers()
{
	const int64_t grace = now_ms() + hang_ms;
	for (;;) {
		bool all = true;
		for (auto &w : workers_)
			all &= w->done.load();
		if (all)
			break;
		if (now_ms() > grace)
			stuck();
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	}
	for (auto &w : workers_)
		w->thread.join();
}

// Workers hung in the kernel: the counts, then exit 3 at once (or reset
// the guest: such a thread keeps the process, and the guest, from ending).
void Run::stuck()
{
	for (auto &w : workers_)
		if (!w->done)
			run_error(w->name + " did not stop; in: " + w->what());
	sysrq_blocked_tasks();
	std::string line = counts_line(opt_.seconds, start_, end_) +
			   " (workers hung: devices left behind)";
	utils::print(stdout, "{}\n", line);
	fflush(stdout);
	write_summary(opt_.summary_file, line);
	if (opt_.reboot_on_hang) {
		utils::print(stdout, "stress: --reboot-on-hang: resetting the guest\n");
		fflush(stdout);
		sysrq('b');
	}
	_exit(3);
}

// Quiet now: every whole map must be exact.
void Run::quiet_checks()
{
	if (counts.errors != 0)
		return;
	utils::print(stdout, "stress: quiet checks\n");
	Walker last(rng_());
	for (auto &sc : scenarios_)
		sc->quiet_check(last);
}

// A failure of the run: the workers stop.
void Run::failed(const std::string &what)
{
	run_error(what);
	stop_flag = true;
	if (start_ && !end_)
		end_ = now_ms();
	for (auto &w : workers_)
		if (w->thread.joinable())
			w->thread.join();
}

// Tear down in reverse order of creation.
void Run::tear_down()
{
	while (!scenarios_.empty())
		scenarios_.pop_back();
}

// The targets, the judged walks and the counts line; the exit status.
int Run::report()
{
	print_targets(reg_);
	utils::print(stdout, "stress: judged {} walks ({} with data over a "
		     "hole where a provider could not look), {} overlapped a "
		     "teardown, {} found no device; read back {} MiB of holes; "
		     "run errors {}\n",
		     counts.checked.load(), counts.conservative.load(),
		     counts.torn.load(), counts.skipped.load(),
		     counts.bytes_read.load() >> 20, counts.errors.load());
	std::string line = counts_line(opt_.seconds, start_, end_);
	utils::print(stdout, "{}\n", line);
	write_summary(opt_.summary_file, line);
	if (counts.wrong)
		return 1;
	if (hung_)
		return 3;
	if (counts.errors)
		return 2;
	return 0;
}

// Loop and dm devices of the run still there after its teardown.
void left_behind(const std::set<std::string> &loops_before,
		 const std::set<std::string> &dms_before)
{
	for (const std::string &l : bound_loop_devices())
		if (!loops_before.count(l))
			run_error("left " + l + " bound");
	for (const std::string &d : dm_devices())
		if (!dms_before.count(d))
			run_error("left " + d + " behind");
}

} // namespace

int main(int argc, char **argv)
{
	Options opt;
	if (int rc = parse_options(argc, argv, &opt))
		return rc;
	scsi_debug_ko = opt.scsi_debug_ko;

	setvbuf(stdout, nullptr, _IOLBF, 0);
	utils::print(stdout, "stress: seed {} (--seed={} builds the same "
		     "layouts), {} s, {} walkers\n", opt.seed, opt.seed,
		     opt.seconds, opt.walkers);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	const auto loops_before = bound_loop_devices();
	const auto dms_before = dm_devices();
	Run run(opt);
	try {
		run.set_up();
		run.arm_self_checks();
		run.first_walk();
		run.start_walkers();
		run.start_mutators();
		run.watch();
		run.stop_workers();
		run.quiet_checks();
	} catch (const std::exception &e) {
		run.failed(e.what());
	}
	run.tear_down();
	left_behind(loops_before, dms_before);
	return run.report();
}
