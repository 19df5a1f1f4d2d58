// SPDX-License-Identifier: GPL-2.0
// RAII fixtures for dm-thin: a pool over two loop devices on sparse tmpfs
// files, thin devices in it, and the provisioned map read independently
// with thin_dump from a metadata snapshot (read by thin_dump_map()).
#pragma once

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <memory>
#include <spawn.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/units.h"
#include "common/expected.h"
#include "fixtures.h"
#include "liveness.h"

namespace seektest {

using namespace units;

inline std::string sectors(int64_t bytes)
{
	return std::to_string(bytes / Sector);
}

// A thin pool over two loop devices on sparse tmpfs files. Members are
// destroyed in reverse order: pool, metadata dm device, loops, files.
class ThinPool {
public:
	enum Flags {
		// The metadata on a dm device a test can turn into errors.
		MetadataOnDm = 1,
		// The data on dm-zero: provisioning costs no memory, and data
		// reads back as zeros.
		DataOnZero = 2,
	};

	explicit ThinPool(int64_t block = 64 * KiB, int64_t data_size = 256 * MiB,
			  std::vector<std::string> features = {},
			  unsigned flags = 0)
		: block_(block), data_size_(data_size), meta_file_(32 * MiB),
		  data_file_(flags & DataOnZero ? 0 : data_size),
		  meta_loop_(meta_file_.path()), data_loop_(data_file_.path())
	{
		if (flags & MetadataOnDm)
			meta_dm_ = std::make_unique<DmDevice>(
				"0 " + sectors(32 * MiB) + " linear " +
				meta_loop_.path() + " 0");
		if (flags & DataOnZero)
			zero_dm_ = std::make_unique<DmDevice>(
				"0 " + sectors(data_size) + " zero");
		pool_ = std::make_unique<DmDevice>(table(features));
	}
	~ThinPool()
	{
		pool_.reset();
		zero_dm_.reset();
		meta_dm_.reset();
	}

	std::string table(const std::vector<std::string> &features) const
	{
		std::string t = "0 " + sectors(data_size_) +
				" thin-pool " + metadata_path() + " " +
				(zero_dm_ ? zero_dm_->path() : data_loop_.path()) +
				" " + sectors(block_) +
				" 0 " + std::to_string(features.size());
		for (const std::string &f : features)
			t += " " + f;
		return t;
	}

	const std::string &path() const { return pool_->path(); }
	int64_t block() const { return block_; }
	DmDevice &dm() { return *pool_; }
	DmDevice &metadata_dm() { return *meta_dm_; }
	const std::string &metadata_path() const
	{
		return meta_dm_ ? meta_dm_->path() : meta_loop_.path();
	}

	void message(const std::string &msg) { pool_->message(msg); }
	std::string status() const { return dm::to_string(pool_->status()); }

	// Provisioned blocks of thin device @id, as byte extents, from
	// thin_dump of a metadata snapshot.
	ExtentMap provisioned(int id)
	{
		message("reserve_metadata_snap");
		std::string xml;
		try {
			xml = run_output("thin_dump --metadata-snap " +
					 metadata_path());
		} catch (...) {
			message("release_metadata_snap");
			throw;
		}
		message("release_metadata_snap");
		return thin_dump_map(xml, id, block_);
	}

private:
	int64_t block_, data_size_;
	SparseFile meta_file_, data_file_;
	LoopDevice meta_loop_, data_loop_;
	std::unique_ptr<DmDevice> meta_dm_, zero_dm_;
	std::unique_ptr<DmDevice> pool_;
};

// A thin device (created in the pool on construction) and an O_DIRECT fd.
class ThinDevice {
public:
	ThinDevice(ThinPool &pool, int id, int64_t size,
		   const std::string &origin = "", bool create = true)
		: pool_(pool), id_(id), size_(size)
	{
		if (create)
			pool.message("create_thin " + std::to_string(id));
		dm_ = std::make_unique<DmDevice>(table(origin));
		fd_ = open_or_throw(dm_->path(), O_RDWR | O_CLOEXEC);
		direct_fd_ = open_or_throw(dm_->path(),
					   O_RDWR | O_DIRECT | O_CLOEXEC);
	}
	~ThinDevice()
	{
		direct_fd_.reset();
		fd_.reset();
		dm_.reset();
	}

	std::string table(const std::string &origin) const
	{
		std::string t = "0 " + sectors(size_) + " thin " + pool_.path() +
				" " + std::to_string(id_);
		return origin.empty() ? t : t + " " + origin;
	}
	int fd() const { return fd_.get(); }
	int id() const { return id_; }
	int64_t size() const { return size_; }
	DmDevice &dm() { return *dm_; }
	ExtentMap provisioned() { return seekmap::window(pool_.provisioned(id_), 0, size_); }

	// O_DIRECT write of a non-zero pattern; @off and @len 4 KiB aligned.
	// (Buffered writes reach thin at writeback; the tests want them now.)
	void write(int64_t off, int64_t len, uint32_t seed = 1)
	{
		void *p = nullptr;
		const size_t chunk = std::min<int64_t>(len, 4 * MiB);
		if (posix_memalign(&p, 4096, chunk))
			throw std::bad_alloc();
		std::unique_ptr<void, decltype(&free)> buf(p, free);
		for (size_t i = 0; i < chunk; i++)
			static_cast<unsigned char *>(p)[i] = 1 + (seed + i) % 251;
		for (int64_t done = 0; done < len;) {
			size_t n = std::min<int64_t>(chunk, len - done);
			ssize_t w = pwrite(direct_fd_.get(), p, n, off + done);
			if (w < 0)
				fail_errno("pwrite " + dm_->path());
			done += w;
		}
	}
	// BLKDISCARD of [off, off + len).
	void discard(int64_t off, int64_t len)
	{
		uint64_t range[2] = {uint64_t(off), uint64_t(len)};
		if (ioctl(fd(), BLKDISCARD, range))
			fail_errno("BLKDISCARD " + dm_->path());
	}

private:
	ThinPool &pool_;
	int id_;
	int64_t size_;
	std::unique_ptr<DmDevice> dm_;
	UniqueFd fd_, direct_fd_; // seeks and reads; writes
};

// Take a snapshot @snap_id of @origin, suspended around it as dm-thin asks.
inline void snapshot(ThinPool &pool, ThinDevice &origin, int snap_id)
{
	origin.dm().suspend();
	try {
		pool.message("create_snap " + std::to_string(snap_id) + " " +
			     std::to_string(origin.id()));
	} catch (...) {
		origin.dm().resume();
		throw;
	}
	origin.dm().resume();
}

// `dmsetup resume` of @dev, whose loaded table holds a thin target of
// @pool, started while @pool is suspended: the pool keeps its thin
// targets' devices internally suspended, so the resume swaps the new
// table in and then waits, before any target's preresume or resume, until
// the pool resumes. Declare it after the std::future of a query made in
// that window: its destructor (or finish()) resumes the pool and reaps the
// resume first, so the future never waits for a query that cannot end.
class ResumeHeldByPool {
public:
	ResumeHeldByPool(ThinPool &pool, DmDevice &dev) : pool_(pool), dev_(dev)
	{
	}
	~ResumeHeldByPool()
	{
		try {
			finish();
		} catch (const std::exception &e) {
			ADD_FAILURE() << "ending the held resume: " << e.what();
		}
	}
	ResumeHeldByPool(const ResumeHeldByPool &) = delete;
	ResumeHeldByPool &operator=(const ResumeHeldByPool &) = delete;

	// Suspend @dev, load @table, suspend the pool and start the resume
	// (a dmsetup process, which reap_child() can kill if it never ends);
	// succeed once the live table shows @marker, with the device still
	// suspended and the resume still waiting.
	::testing::AssertionResult start(const std::string &table,
					 const std::string &marker)
	{
		const std::string name = dev_.name();
		dev_.suspend();
		suspended_ = true;
		dev_.load(table);
		pool_.dm().suspend();
		pool_suspended_ = true;
		const char *argv[] = {"dmsetup", "resume", name.c_str(), nullptr};
		if (posix_spawnp(&resumer_, "dmsetup", nullptr, nullptr,
				 const_cast<char **>(argv), environ)) {
			resumer_ = -1;
			return ::testing::AssertionFailure() << "spawn dmsetup";
		}
		dm::Info info;
		std::string live;
		for (int i = 0; i < 200; i++) {
			info = dev_.info();
			live = dm::to_string(dev_.table());
			if (!info.inactive_table &&
			    live.find(marker) != std::string::npos)
				break;
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		}
		if (live.find(marker) == std::string::npos)
			return ::testing::AssertionFailure()
			       << "the new table never went live (inactive table "
			       << info.inactive_table << "):\n" << live;
		if (!info.suspended)
			return ::testing::AssertionFailure()
			       << "the resume did not wait for the pool:\n"
			       << live;
		if (waitpid(resumer_, nullptr, WNOHANG) != 0)
			return ::testing::AssertionFailure()
			       << "dmsetup resume ended while the pool was "
				  "suspended";
		return ::testing::AssertionSuccess();
	}

	// Resume the pool, which lets the held resume finish, and reap it
	// (or resume the device if the resume never started). True if the
	// resume succeeded. Does its work once.
	bool finish()
	{
		if (done_)
			return ok_;
		done_ = true;
		try {
			if (pool_suspended_)
				pool_.dm().resume();
		} catch (...) {
			reap();
			throw;
		}
		reap();
		return ok_;
	}

private:
	void reap()
	{
		if (resumer_ != -1) {
			int status = reap_child(resumer_);
			ok_ = status != -1 && WIFEXITED(status) &&
			      WEXITSTATUS(status) == 0;
		} else if (suspended_) {
			dev_.resume();
		}
	}

	ThinPool &pool_;
	DmDevice &dev_;
	pid_t resumer_ = -1;
	bool suspended_ = false, pool_suspended_ = false;
	bool done_ = false, ok_ = false;
};

} // namespace seektest
