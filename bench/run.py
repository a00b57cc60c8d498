#!/usr/bin/env python3
"""Backup benchmark: rdpm against restic, borg and rustic on the same data sets.

    python3 bench/run.py            # full: mixed (~2 GiB) and many-small, 3 runs each
    python3 bench/run.py --quick    # smoke test: a 32 MiB data set, 1 run, under a minute

For each data set and each tool it measures the first full backup (time and
throughput), a re-backup with nothing changed, and a re-backup after the data
set generator's mutation step (2% of files rewritten in part, 1% appended to,
1% new files), each run into a fresh repository; then a full restore of the
last backup into an empty folder and a restore of the largest file alone.
It reports the median over the runs, each tool's peak resident memory for
backing up and for restoring, and rdpm's ratios to the fastest of the
others. rdpm is driven as an administrator drives it: a server
started from the release build and one `rdpm -Command` per backup.

restic and borg come from Debian (apt-get). rustic is not packaged there:
the first run that needs it builds rustic-rs RUSTIC_VERSION from crates.io
into --tools-dir (`cargo install --locked`, about 20 minutes on two cores),
and later runs reuse that build.

Stdlib only. It is not part of the test suite and never runs in CI: a run
takes the machine's whole attention and its figures mean something only on
a quiet machine.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_dataset  # noqa: E402  (the vendored generator, beside this file)

SEED = 20240601
# Throwaway repositories of synthetic data: the password protects nothing.
PASSWORD = "rdpm-bench-not-a-secret"
SERVER_NAME = "BENCH"
TOOLS = ("rdpm", "restic", "borg", "rustic")
# rustic-rs, the command-line tool over rustic_core (rdpm vendors
# rustic_core 0.13.0, which rustic 0.11 builds on).
RUSTIC_VERSION = "0.11.4"
STEPS = ("full", "nochange", "mutated")
RESTORE_STEPS = ("restore_full", "restore_one")
STEP_TITLES = {"full": "full backup", "nochange": "no-change re-backup",
               "mutated": "re-backup after mutation", "restore_full": "full restore",
               "restore_one": "single-file restore"}
MIB = 1024 * 1024


# ------------------------------------------------------------------ helpers
def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def die(msg):
    log(f"error: {msg}")
    sys.exit(2)


def as_root(cmd):
    return cmd if os.geteuid() == 0 else ["sudo"] + cmd


def tree_stats(root):
    files = size = 0
    for dp, _dn, fn in os.walk(root):
        for f in fn:
            files += 1
            size += os.lstat(os.path.join(dp, f)).st_size
    return files, size


def du_bytes(path):
    """Allocated-size-independent: the sum of file sizes, as a repository's
    size is usually quoted."""
    return tree_stats(path)[1] if os.path.exists(path) else 0


def read_tree(root):
    """Read every file once so that the step after it starts with the data set
    in the page cache, whichever tool ran before."""
    buf = bytearray(1 << 20)
    for dp, _dn, fn in os.walk(root):
        for f in fn:
            with open(os.path.join(dp, f), "rb", buffering=0) as fh:
                while fh.readinto(buf):
                    pass


def parse_gnu_time(path):
    """Peak RSS (KiB) and exit status from `/usr/bin/time -v -o path`."""
    rss = None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", line)
                if m:
                    rss = int(m.group(1))
    except FileNotFoundError:
        pass
    return rss


def timed(cmd, env, logfile, cwd=None):
    """Run cmd under /usr/bin/time -v; return (seconds, exit code, peak RSS KiB)."""
    tfile = logfile + ".time"
    with open(logfile, "ab") as out:
        out.write(("$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tfile] + cmd, env=env, cwd=cwd,
                           stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        dt = time.monotonic() - t0
    return dt, p.returncode, parse_gnu_time(tfile)


def tail(path, n=15):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except FileNotFoundError:
        return ""


def first_error(path):
    """The first PowerShell error record's message line in a shell log."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if re.match(r"^[A-Za-z][\w-]* : \S", line):
                    return line.strip()
    except FileNotFoundError:
        pass
    return "(no error record; see the log)"


def job_info(text):
    """From a job's JSON line: its StartTime to EndTime (the server's time for
    the backup, without the shell's start and Wait-DPMJob's polling) and its
    file counters, which show whether a re-backup read only what changed."""
    m = re.search(r"^BENCH-JOB-JSON=(.*)$", text, re.M)
    try:
        job = json.loads(m.group(1))
    except (AttributeError, ValueError):
        return None, {}
    counters = {k: job.get(k) for k in ("FilesScanned", "FilesTransferred", "FilesSkipped",
                                        "BytesScanned", "DataSize")}
    try:
        start = datetime.datetime.fromisoformat(job["StartTime"])
        end = datetime.datetime.fromisoformat(job["EndTime"])
        return round((end - start).total_seconds(), 3), counters
    except (ValueError, KeyError, TypeError):
        return None, counters


class StepFailed(Exception):
    pass


# ------------------------------------------------------------------ setup
def rustic_binary(tools_dir):
    """rustic on the PATH, or the one built into `tools_dir`; None if neither."""
    built = os.path.join(tools_dir, "bin", "rustic")
    if os.access(built, os.X_OK):
        return built
    return shutil.which("rustic")


def ensure_rustic(tools_dir, allow_install):
    binary = rustic_binary(tools_dir)
    if binary:
        return binary
    if not allow_install:
        die(f"rustic is neither on the PATH nor in {tools_dir}/bin; build it (cargo install "
            f"rustic-rs --version {RUSTIC_VERSION} --locked --root {tools_dir}) or drop "
            "--no-install")
    log(f"building rustic-rs {RUSTIC_VERSION} into {tools_dir} (cargo install; once, "
        "about 20 minutes)")
    subprocess.run(["cargo", "install", "rustic-rs", "--version", RUSTIC_VERSION, "--locked",
                    "--root", tools_dir], check=True)
    return rustic_binary(tools_dir)


def ensure_tools(tools, allow_install):
    need = {"time": os.path.exists("/usr/bin/time")}
    if "restic" in tools:
        need["restic"] = shutil.which("restic") is not None
    if "borg" in tools:
        need["borgbackup"] = shutil.which("borg") is not None
    missing = [pkg for pkg, ok in need.items() if not ok]
    if not missing:
        return
    if not allow_install:
        die(f"missing Debian packages {missing}; install them or drop --no-install")
    log(f"installing {' '.join(missing)} (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(as_root(["apt-get", "update", "-qq"]), check=True, env=env)
    subprocess.run(as_root(["apt-get", "install", "-y", "-qq"] + missing), check=True, env=env)


def build_rdpm(skip):
    binary = os.path.join(REPO, "target", "release", "rdpm")
    if not skip:
        log("cargo build --release -p rdpm")
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "rdpm"], cwd=REPO,
                       check=True)
    if not os.access(binary, os.X_OK):
        die(f"{binary} is missing; build it or drop --no-build")
    return binary


# Data sets: name -> (description, generator(partial_root) -> generated dir)
def _gen_script(what):
    def gen(root):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_dataset.py"), what,
                        "--root", root, "--seed", str(SEED)], check=True)
        return os.path.join(root, what)
    return gen


def _gen_quick(root):
    # The mixed data set's shape (log-normal sizes, half incompressible, the
    # same 3-level tree) at 1/64 of its size and 1/20 of its files.
    gen_dataset.gen_mixed(root, SEED, n_files=1000, total=32 * MIB)
    return os.path.join(root, "mixed")


DATASETS = {
    "mixed": ("~2 GiB in 20,000 files, log-normal sizes, half incompressible",
              _gen_script("mixed")),
    "many-small": ("200,000 files of 1-8 KiB, half incompressible",
                   _gen_script("many-small")),
    "quick": ("32 MiB in 1,000 files, the mixed set's shape (smoke test)", _gen_quick),
}


def ensure_dataset(data_dir, name):
    """The cached data set; generated into a scratch directory and renamed, so
    that an interrupted generation is never mistaken for a finished one."""
    final = os.path.join(data_dir, name)
    if os.path.isdir(final):
        log(f"data set {name}: reusing {final}")
        return final
    partial = os.path.join(data_dir, f".partial-{name}")
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    log(f"data set {name}: generating into {partial} (once; cached afterwards)")
    t0 = time.monotonic()
    out = DATASETS[name][1](partial)
    os.rename(out, final)
    shutil.rmtree(partial, ignore_errors=True)
    log(f"data set {name}: generated in {time.monotonic() - t0:.0f} s")
    return final


def mount_point(path):
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


def ps_quote(s):
    return "'" + s.replace("'", "''") + "'"


# ------------------------------------------------------------------ tools
class CommandTool:
    """A tool run as one command per step, on a repository of its own in
    the run's directory; subclasses say which commands."""
    name = None

    def __init__(self, run_dir, src, logdir):
        self.src, self.logdir = src, logdir
        self.repo = os.path.join(run_dir, f"{self.name}-repo")
        self.peak = None
        self.restore_peak = None

    def log(self, step):
        return os.path.join(self.logdir, f"{self.name}-{step}.log")

    def run(self, cmd, step, ok=(0,), cwd=None):
        """Runs one step's command, fails the step on another exit code,
        and keeps the peak memory of backups and of restores apart.
        Returns the seconds it took."""
        dt, rc, rss = timed(cmd, self.env, self.log(step), cwd=cwd)
        if rc not in ok:
            raise StepFailed(f"{self.name} {cmd[1]} exited {rc}:\n{tail(self.log(step))}")
        if step.startswith("restore"):
            self.restore_peak = max(self.restore_peak or 0, rss or 0)
        elif step != "init":
            self.peak = max(self.peak or 0, rss or 0)
        return dt

    def repo_bytes(self):
        return du_bytes(self.repo)

    def teardown(self):
        pass


class Restic(CommandTool):
    name = "restic"

    def __init__(self, run_dir, src, logdir):
        super().__init__(run_dir, src, logdir)
        self.env = dict(os.environ, RESTIC_REPOSITORY=self.repo, RESTIC_PASSWORD=PASSWORD,
                        RESTIC_CACHE_DIR=os.path.join(run_dir, "restic-cache"))

    def setup(self):
        self.run(["restic", "init"], "init")

    def backup(self, step):
        return self.run(["restic", "backup", "--host", "bench", self.src], step)

    def restore(self, step, target, path=None):
        cmd = ["restic", "restore", "latest", "--target", target]
        if path:
            cmd += ["--include", path]
        dt = self.run(cmd, step)
        # restic recreates the absolute path below the target.
        return dt, os.path.join(target, os.path.realpath(path or self.src).lstrip("/"))


class Borg(CommandTool):
    name = "borg"
    # 1 is borg's "warning" (e.g. a file changed while read): the archive exists.
    OK = (0, 1)

    def __init__(self, run_dir, src, logdir):
        super().__init__(run_dir, src, logdir)
        # BORG_BASE_DIR keeps the files cache, keys and security dir per run,
        # so that no run starts with a cache another run filled.
        self.env = dict(os.environ, BORG_REPO=self.repo, BORG_PASSPHRASE=PASSWORD,
                        BORG_BASE_DIR=os.path.join(run_dir, "borg-home"))

    def setup(self):
        self.run(["borg", "init", "--encryption", "repokey"], "init")

    def backup(self, step):
        return self.run(["borg", "create", "--compression", "zstd", f"::{step}", self.src],
                        step, ok=self.OK)

    def restore(self, step, target, path=None):
        os.makedirs(target, exist_ok=True)
        cmd = ["borg", "extract", "::mutated"]
        if path:
            cmd.append(path.lstrip("/"))
        dt = self.run(cmd, step, ok=self.OK, cwd=target)
        return dt, os.path.join(target, (path or self.src).lstrip("/"))


class Rustic(CommandTool):
    """rustic 0.11, each command a fresh process that opens the repository,
    as a user runs it. HOME and XDG_CONFIG_HOME point into the run, so no
    profile of the machine's user is read."""
    name = "rustic"

    def __init__(self, run_dir, src, logdir, binary):
        super().__init__(run_dir, src, logdir)
        self.binary = binary
        home = os.path.join(run_dir, "rustic-home")
        self.env = dict(os.environ, RUSTIC_REPOSITORY=self.repo, RUSTIC_PASSWORD=PASSWORD,
                        RUSTIC_CACHE_DIR=os.path.join(run_dir, "rustic-cache"),
                        RUSTIC_NO_PROGRESS="true", HOME=home,
                        XDG_CONFIG_HOME=os.path.join(home, "config"))

    def setup(self):
        self.run([self.binary, "init"], "init")

    def backup(self, step):
        return self.run([self.binary, "backup", "--host", "bench", self.src], step)

    def restore(self, step, target, path=None):
        if path:
            # A single file is restored as the destination path itself.
            os.makedirs(target, exist_ok=True)
            restored = os.path.join(target, os.path.basename(path))
            cmd = [self.binary, "restore", f"latest:{os.path.realpath(path)}", restored]
        else:
            # rustic, like restic, recreates the absolute path below the target.
            restored = os.path.join(target, os.path.realpath(self.src).lstrip("/"))
            cmd = [self.binary, "restore", "latest", target]
        return self.run(cmd, step), restored


class Rdpm:
    """One fresh server and data directory per run, the server itself under
    /usr/bin/time -v: it does the backing up, so its peak RSS is rdpm's."""
    name = "rdpm"

    def __init__(self, run_dir, src, logdir, binary):
        self.src, self.logdir, self.binary = src, logdir, binary
        self.data = os.path.join(run_dir, "rdpm-server")
        self.config = os.path.join(run_dir, "rdpm-config.toml")
        home = os.path.join(run_dir, "rdpm-home")
        self.env = dict(os.environ, RDPM_CONFIG=self.config,
                        XDG_DATA_HOME=os.path.join(home, "data"),
                        XDG_CONFIG_HOME=os.path.join(home, "config"))
        self.server = None
        self.peak = None
        self.client_peak = None
        self.setup_s = None
        self.job_s = {}
        self.job_counters = {}

    def log(self, step):
        return os.path.join(self.logdir, f"rdpm-{step}.log")

    def setup(self):
        os.makedirs(self.data, mode=0o700)
        self.start_server("server")
        t0 = time.monotonic()
        self.shell(self.protection_group_script(), "setup")
        self.setup_s = time.monotonic() - t0

    def start_server(self, label):
        """Starts the server on the data directory, under /usr/bin/time."""
        self.server_time = self.log(label) + ".time"
        self.server_log = open(self.log(label), "wb")
        self.server = subprocess.Popen(
            ["/usr/bin/time", "-v", "-o", self.server_time, self.binary, "server",
             "--data-dir", self.data, "--listen", "127.0.0.1:0", "--name", SERVER_NAME,
             "--time-zone", "UTC"],
            env=self.env, stdout=subprocess.PIPE, stderr=self.server_log,
            stdin=subprocess.DEVNULL)
        url = None
        deadline = time.monotonic() + 30
        for raw in self.server.stdout:
            line = raw.decode(errors="replace")
            self.server_log.write(raw)
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                url = m.group(1)
                break
            if time.monotonic() > deadline:
                break
        if not url:
            self.teardown()
            raise StepFailed(f"the rdpm server did not start:\n{tail(self.log(label))}")
        # Keep draining stdout so that the server never blocks on a full pipe.
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(f'[servers.{SERVER_NAME}]\nurl = "{url}"\n'
                    f'token_file = "{os.path.join(self.data, "admin.token")}"\n')

    def _drain(self):
        for raw in self.server.stdout:
            self.server_log.write(raw)

    def protection_group_script(self):
        vol = mount_point(self.src)
        levels = os.path.relpath(os.path.realpath(self.src), vol).split(os.sep)
        lines = [
            "$ErrorActionPreference = 'Stop'",
            f"$ps = Get-DPMProductionServer -DPMServerName {SERVER_NAME}",
            f"$vol = Get-DPMDatasource -ProductionServer $ps -Inquire | "
            f"Where-Object {{ $_.Name -eq {ps_quote(vol)} }}",
            f"if (-not $vol) {{ throw {ps_quote('no volume datasource named ' + vol)} }}",
            "$dir = $vol",
        ]
        for name in levels:
            lines += [
                f"$dir = Get-DPMChildDatasource -ChildDatasource $dir -Inquire | "
                f"Where-Object {{ $_.Name -eq {ps_quote(name)} }}",
                f"if (-not $dir) {{ throw {ps_quote('no child datasource named ' + name)} }}",
            ]
        lines += [
            f"$pg = New-DPMProtectionGroup -DPMServerName {SERVER_NAME} -Name 'bench'",
            "Add-DPMChildDatasource -ProtectionGroup $pg -ChildDatasource $dir",
            "Set-DPMProtectionType -ProtectionGroup $pg -ShortTerm Disk",
            # No scheduled job may run during the benchmark: a
            # synchronization on the hour would back up the mutation before
            # the timed re-backup does. Synchronize only before recovery
            # points, and make those once a day, at a time that just passed.
            "Set-DPMPolicyObjective -ProtectionGroup $pg -RetentionRangeInDays 14 "
            "-BeforeRecoveryPoint",
            "$rp = Get-DPMPolicySchedule -ProtectionGroup $pg -ShortTerm | "
            "Where-Object { $_.JobType -eq 'ShadowCopy' }",
            "Set-DPMPolicySchedule -ProtectionGroup $pg -Schedule $rp -TimesOfDay "
            f"{time.strftime('%H:%M', time.gmtime(time.time() - 300))} "
            "-DaysOfWeek Su,Mo,Tu,We,Th,Fr,Sa",
            # -Manual, not -Now: nothing may start a backup on commit, so
            # that the first backup timed is the one the benchmark starts.
            "Set-DPMReplicaCreationMethod -ProtectionGroup $pg -Manual",
            "Set-DPMProtectionGroup -ProtectionGroup $pg",
            "Get-DPMDatasource -ProtectionGroup (Get-DPMProtectionGroup "
            f"-DPMServerName {SERVER_NAME})[0] | Format-List",
        ]
        return "\n".join(lines)

    # Stop: any error ends the command with exit code 1, which fails the step.
    BACKUP_SCRIPT = (
        "$ErrorActionPreference = 'Stop'\n"
        f"$ds = Get-DPMDatasource -ProtectionGroup (Get-DPMProtectionGroup "
        f"-DPMServerName {SERVER_NAME})[0]\n"
        "$job = New-DPMRecoveryPoint -Datasource $ds -Disk -DiskRecoveryPointOption "
        "WithSynchronize | Wait-DPMJob\n"
        "$job | Format-List\n"
        "Write-Output \"BENCH-JOB-STATUS=$($job.Status)\"\n"
        "Write-Output \"BENCH-JOB-JSON=$($job | ConvertTo-Json -Compress)\"\n"
    )

    def shell(self, script, step):
        dt, rc, rss = timed([self.binary, "-NonInteractive", "-Command", script], self.env,
                            self.log(step))
        if rc:
            raise StepFailed(f"rdpm -Command ({step}) exited {rc}: {first_error(self.log(step))}\n"
                             f"{tail(self.log(step))}")
        self.client_peak = max(self.client_peak or 0, rss or 0)
        return dt

    def backup(self, step):
        dt = self.shell(self.BACKUP_SCRIPT, step)
        with open(self.log(step), encoding="utf-8", errors="replace") as f:
            text = f.read()
        statuses = re.findall(r"BENCH-JOB-STATUS=(\S*)", text)
        status = statuses[-1] if statuses else ""
        if status not in ("Succeeded", "Warning"):
            raise StepFailed(f"rdpm backup job status {status or '(none)'}:\n"
                             f"{tail(self.log(step), 30)}")
        self.job_s[step], self.job_counters[step] = job_info(text)
        if status == "Warning":
            log(f"rdpm {step}: job ended with Warning (files skipped); see {self.log(step)}")
        return dt

    def restart_for_restore(self):
        """A fresh server process on the same data directory, so that the
        restore's peak memory is measured apart from the backups'."""
        self.teardown()
        self.start_server("server-restore")

    RESTORE_SCRIPT = (
        "$ErrorActionPreference = 'Stop'\n"
        f"$ds = Get-DPMDatasource -ProtectionGroup (Get-DPMProtectionGroup "
        f"-DPMServerName {SERVER_NAME})[0]\n"
        "$rp = Get-DPMRecoveryPoint -Datasource $ds | Sort-Object RepresentedPointInTime "
        "| Select-Object -Last 1\n"
        "$opt = New-DPMRecoveryOption -TargetServer $ds.ProductionServerName "
        "-RecoveryLocation CopyToFolder -FileSystem -AlternateLocation {target} -CreateAlternateLocation "
        "-OverwriteType Overwrite -RecoveryType Restore\n"
        "{find}"
        "$job = Restore-DPMRecoverableItem -RecoverableItem $item -RecoveryOption $opt "
        "| Wait-DPMJob\n"
        "$job | Format-List\n"
        "Write-Output \"BENCH-JOB-STATUS=$($job.Status)\"\n"
        "Write-Output \"BENCH-JOB-JSON=$($job | ConvertTo-Json -Compress)\"\n"
    )

    def restore(self, step, target, path=None):
        if path:
            # Browse down to the file, as an administrator would.
            rel = os.path.relpath(path, self.src).split(os.sep)
            find = "$item = $rp\n" + "".join(
                f"$item = Get-DPMRecoverableItem -RecoverableItem $item -BrowseType Child "
                f"| Where-Object {{ $_.Name -eq {ps_quote(name)} }}\n"
                f"if (-not $item) {{ throw {ps_quote('no item named ' + name)} }}\n"
                for name in rel)
        else:
            find = "$item = $rp\n"
        script = self.RESTORE_SCRIPT.replace("{target}", ps_quote(target)).replace(
            "{find}", find)
        dt = self.shell(script, step)
        with open(self.log(step), encoding="utf-8", errors="replace") as f:
            text = f.read()
        statuses = re.findall(r"BENCH-JOB-STATUS=(\S*)", text)
        status = statuses[-1] if statuses else ""
        if status != "Succeeded":
            raise StepFailed(f"rdpm restore job status {status or '(none)'}:\n"
                             f"{tail(self.log(step), 30)}")
        self.job_s[step], self.job_counters[step] = job_info(text)
        # A CopyToFolder restore puts the item under its own name.
        return dt, (os.path.join(target, os.path.basename(self.src)) if not path
                    else os.path.join(target, os.path.basename(path)))

    def repo_bytes(self):
        return du_bytes(os.path.join(self.data, "pool"))

    def teardown(self):
        if not self.server:
            return
        # SIGTERM to rdpm itself, not to time: time then reports and exits.
        try:
            with open(f"/proc/{self.server.pid}/task/{self.server.pid}/children") as f:
                children = [int(p) for p in f.read().split()]
        except OSError:
            children = []
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            log("rdpm server did not stop within 60 s of SIGTERM; killing it")
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.server.wait()
        self.drain.join()
        self.server_log.close()
        peak = parse_gnu_time(self.server_time)
        if self.server_time.endswith("server-restore.log.time"):
            self.restore_peak = peak
        else:
            self.peak = peak
        self.server = None


# ------------------------------------------------------------------ one run
def prepare(tree, cold):
    os.sync()
    if cold:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    else:
        read_tree(tree)


def walk_floor(tree):
    """The least any tool spends to see that nothing changed: one lstat of
    every entry (GNU find, no output)."""
    t0 = time.monotonic()
    subprocess.run(["find", tree, "-printf", "%s %T@ %i\n"], stdout=subprocess.DEVNULL,
                   check=True)
    return time.monotonic() - t0


def restore_tree(orig, copy):
    """Undo a mutation: copy back the files whose size or mtime differ and
    delete those the mutation added. On 200,000 files this takes seconds where
    deleting and copying the whole tree takes minutes."""
    changed = removed = 0
    for dp, _dn, fn in os.walk(copy):
        rel = os.path.relpath(dp, copy)
        for f in fn:
            c, o = os.path.join(dp, f), os.path.join(orig, rel, f)
            try:
                so = os.lstat(o)
            except FileNotFoundError:
                os.unlink(c)
                removed += 1
                continue
            sc = os.lstat(c)
            if sc.st_size != so.st_size or sc.st_mtime_ns != so.st_mtime_ns:
                shutil.copy2(o, c)
                changed += 1
    return changed, removed


def fresh_copy(dataset, src):
    """src becomes an exact copy of the cached data set, which stays pristine."""
    if os.path.isdir(src):
        changed, removed = restore_tree(dataset, src)
        if tree_stats(src) == tree_stats(dataset):
            log(f"copy at {src} restored to the data set ({changed} files copied back, "
                f"{removed} removed)")
            return
        shutil.rmtree(src)
    os.makedirs(os.path.dirname(src), exist_ok=True)
    log(f"copying the data set to {src}")
    subprocess.run(["cp", "-a", "--reflink=auto", dataset, src], check=True)


def one_run(args, name, dataset, run_index, binary, outdir):
    work = os.path.join(args.work_dir, name)
    run_dir = os.path.join(work, f"run-{run_index}")
    src = os.path.join(args.work_dir, "src", name)
    logdir = os.path.join(outdir, "logs", name, f"run-{run_index}")
    os.makedirs(logdir, exist_ok=True)
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    fresh_copy(dataset, src)

    # Rotate the order per run so that no tool always goes first.
    k = run_index % len(args.tools)
    order = args.tools[k:] + args.tools[:k]
    tools = {}
    for t in order:
        if t == "rdpm":
            tools[t] = Rdpm(run_dir, src, logdir, binary)
        elif t == "restic":
            tools[t] = Restic(run_dir, src, logdir)
        elif t == "rustic":
            tools[t] = Rustic(run_dir, src, logdir, args.rustic)
        else:
            tools[t] = Borg(run_dir, src, logdir)
    res = {t: {"steps": {}} for t in order}
    failed = {}
    try:
        for t in order:
            try:
                tools[t].setup()
            except StepFailed as e:
                failed[t] = str(e)
        floor = None
        for step in STEPS:
            if step == "mutated":
                out = subprocess.run([sys.executable, os.path.join(HERE, "gen_dataset.py"),
                                      "mutate", src, "--seed", str(SEED)], check=True,
                                     capture_output=True, text=True)
                res["_mutate"] = out.stdout.strip()
            for t in order:
                if t in failed:
                    continue
                prepare(src, args.cold)
                try:
                    dt = tools[t].backup(step)
                except StepFailed as e:
                    failed[t] = f"{step}: {e}"
                    log(f"{t} {step} FAILED: {e}")
                    continue
                res[t]["steps"][step] = round(dt, 3)
                if step == "full":
                    res[t]["repo_bytes_full"] = tools[t].repo_bytes()
                log(f"{name} run {run_index + 1}: {t:6} {STEP_TITLES[step]:25} {dt:8.2f} s")
            if step == "nochange":
                prepare(src, args.cold)
                floor = walk_floor(src)
        res["_floor_nochange_s"] = round(floor, 3) if floor is not None else None
        restore_steps(args, name, order, tools, failed, res, src, run_dir, run_index)
    finally:
        for t in order:
            tools[t].teardown()
            res[t]["peak_rss_kib"] = tools[t].peak
            res[t]["restore_peak_rss_kib"] = getattr(tools[t], "restore_peak", None)
            if t not in failed:
                res[t]["repo_bytes_end"] = tools[t].repo_bytes()
            if t == "rdpm":
                res[t]["client_peak_rss_kib"] = tools[t].client_peak
                res[t]["job_s"] = tools[t].job_s
                res[t]["job_counters"] = tools[t].job_counters
                res[t]["setup_s"] = round(tools[t].setup_s, 3) if tools[t].setup_s else None
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    for t, why in failed.items():
        res[t]["error"] = why
    res["_order"] = order
    return res


def largest_file(tree):
    best, size = None, -1
    for dp, _dn, fn in os.walk(tree):
        for f in fn:
            p = os.path.join(dp, f)
            st = os.lstat(p)
            if st.st_size > size:
                best, size = p, st.st_size
    return best, size


def restore_steps(args, name, order, tools, failed, res, src, run_dir, run_index):
    """Full restore of the last backup, then its largest file alone, each
    into an empty folder, checked against the source."""
    if "rdpm" in tools and "rdpm" not in failed:
        try:
            tools["rdpm"].restart_for_restore()
        except StepFailed as e:
            failed["rdpm"] = f"restart: {e}"
    big, big_size = largest_file(src)
    expected = tree_stats(src)
    for step in RESTORE_STEPS:
        # Each step's restored trees are removed once every tool has
        # restored: on this machine's disk, a restore that ran right after
        # another tool's restore of 200,000 files and its removal took 2-7x
        # as long as the same tool's restore in first place.
        targets = []
        for t in order:
            if t in failed:
                continue
            target = os.path.join(run_dir, f"restore-{t}-{step}")
            shutil.rmtree(target, ignore_errors=True)
            targets.append(target)
            prepare(src, args.cold)
            try:
                if step == "restore_full":
                    dt, root = tools[t].restore(step, target)
                    got = tree_stats(root)
                    if got != expected:
                        raise StepFailed(f"restored tree {got} differs from the source "
                                         f"{expected}")
                else:
                    dt, restored = tools[t].restore(step, target, big)
                    if os.path.getsize(restored) != big_size:
                        raise StepFailed(f"restored {restored} has the wrong size")
            except (StepFailed, OSError) as e:
                failed[t] = f"{step}: {e}"
                log(f"{t} {step} FAILED: {e}")
                continue
            res[t]["steps"][step] = round(dt, 3)
            log(f"{name} run {run_index + 1}: {t:6} {STEP_TITLES[step]:25} {dt:8.2f} s")
        for target in targets:
            shutil.rmtree(target, ignore_errors=True)
        os.sync()


def browse_bench(args, binary, outdir, entries=100_000, page=1000, tries=5):
    """The first page of a folder with `entries` entries, browsed through
    the server's API (what Get-DPMRecoverableItem sends), `tries` times on
    one server, each a fresh browse: it reads the folder's tree and returns
    the first `page` items. Returns the times in milliseconds."""
    import urllib.request
    wide = os.path.join(args.work_dir, f"wide-{entries}")
    if not (os.path.isdir(wide) and len(os.listdir(wide)) == entries):
        shutil.rmtree(wide, ignore_errors=True)
        os.makedirs(wide)
        log(f"creating {entries:,} empty files in {wide}")
        for i in range(entries):
            open(os.path.join(wide, f"f{i:06d}"), "wb").close()
    run_dir = os.path.join(args.work_dir, "browse")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    logdir = os.path.join(outdir, "logs", "browse")
    os.makedirs(logdir, exist_ok=True)
    tool = Rdpm(run_dir, wide, logdir, binary)
    try:
        tool.setup()
        tool.backup("full")
        with open(os.path.join(tool.data, "admin.token"), encoding="utf-8") as f:
            admin = f.read().strip()
        with open(tool.config, encoding="utf-8") as f:
            url = re.search(r'url = "([^"]+)"', f.read()).group(1)

        def call(method, path, token, body=None):
            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(url + path, data=data, method=method, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.loads(r.read() or b"null")

        session = call("POST", "/api/v1/sessions", admin,
                       {"client_host": "bench", "client_process": "bench"})
        token = session["token"]
        ds = call("GET", "/api/v1/datasources", token)[0]["id"]
        rp = call("GET", f"/api/v1/recovery-points?datasource={ds}", token)[-1]["id"]
        times = []
        for _ in range(tries):
            t0 = time.monotonic()
            page_ = call("POST", f"/api/v1/recovery-points/{rp}/browse", token,
                         {"browse_type": "Child", "page_size": page})
            times.append((time.monotonic() - t0) * 1000)
            if len(page_["items"]) != page or page_.get("total") != entries:
                raise StepFailed(f"the browse returned {len(page_['items'])} items of "
                                 f"{page_.get('total')}")
            if page_.get("cursor"):
                call("DELETE", f"/api/v1/cursors/{page_['cursor']}", token)
        log(f"browse of a {entries:,}-entry folder, first {page} items: "
            + ", ".join(f"{t:.0f} ms" for t in times))
        return times
    finally:
        tool.teardown()
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)


# ------------------------------------------------------------------ report
def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(name, files, size, runs, tools):
    s = {"files": files, "bytes": size, "runs": runs, "median": {}, "ratios": {}}
    for t in tools:
        per = [r[t] for r in runs]
        complete = [p for p in per if "error" not in p]
        m = {step: median([p["steps"].get(step) for p in complete])
             for step in STEPS + RESTORE_STEPS}
        m["full_mib_s"] = (size / MIB / m["full"]) if m["full"] else None
        m["peak_rss_mib"] = median([p["peak_rss_kib"] / 1024 for p in complete
                                    if p.get("peak_rss_kib")])
        m["restore_peak_rss_mib"] = median([p["restore_peak_rss_kib"] / 1024 for p in complete
                                            if p.get("restore_peak_rss_kib")])
        m["repo_mib_full"] = median([p.get("repo_bytes_full", 0) / MIB for p in complete])
        m["repo_mib_end"] = median([p.get("repo_bytes_end", 0) / MIB for p in complete])
        m["complete_runs"] = len(complete)
        if t == "rdpm":
            m["job_s"] = {step: median([p.get("job_s", {}).get(step) for p in complete])
                          for step in STEPS + RESTORE_STEPS}
        s["median"][t] = m
    s["floor_nochange_s"] = median([r.get("_floor_nochange_s") for r in runs])
    s["mutate"] = runs[0].get("_mutate") if runs else None
    others = [t for t in tools if t != "rdpm"]
    if "rdpm" in tools and others:
        r = s["median"]["rdpm"]

        def best(key, pick):
            vals = [(s["median"][t][key], t) for t in others
                    if s["median"][t][key] is not None]
            return pick(vals) if vals else (None, None)

        for key, pick in (("full", min), ("nochange", min), ("mutated", min),
                          ("full_mib_s", max), ("peak_rss_mib", min),
                          ("restore_full", min), ("restore_one", min),
                          ("restore_peak_rss_mib", min)):
            v, who = best(key, pick)
            s["ratios"][key] = {"vs": who, "ratio": (r[key] / v) if r[key] and v else None}
        fl = s["floor_nochange_s"]
        s["ratios"]["nochange_vs_walk"] = {
            "vs": "tree walk", "ratio": (r["nochange"] / fl) if r["nochange"] and fl else None}
    return s


def fmt(v, nd=2, suffix=""):
    return "n/a" if v is None else f"{v:,.{nd}f}{suffix}"


def render(meta, summaries):
    out = [f"# rdpm backup and restore benchmark ({meta['mode']})", ""]
    out.append(f"{meta['date']} on {meta['host']}: {meta['cpu']}, {meta['cpus']} CPUs, "
               f"{meta['mem_gib']} GiB RAM, load {meta['loadavg']} at start.  ")
    out.append(f"rdpm {meta['rdpm_rev']}; {meta['restic']}; {meta['borg']}; "
               f"{meta['rustic']}.  ")
    out.append(f"Median of {meta['runs']} run(s); {meta['caches']}.  ")
    out.append("Times are wall-clock seconds of the client command (rdpm: `rdpm -Command` "
               "through the server, including shell start and job polling); peak RSS is "
               "the process that does the work (rdpm: the server, one process for the backups and a fresh one for the restores).")
    for name, s in summaries.items():
        out += ["", f"## {name}: {s['files']:,} files, {s['bytes'] / MIB:,.1f} MiB "
                f"({DATASETS[name][0]})", ""]
        out.append("| tool | full backup s | full MiB/s | no-change s | after mutation s "
                   "| peak RSS MiB | repo MiB after full | repo MiB at end |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for t, m in s["median"].items():
            note = "" if m["complete_runs"] == len(s["runs"]) else \
                f" ({m['complete_runs']}/{len(s['runs'])} runs completed)"
            out.append(f"| {t}{note} | {fmt(m['full'])} | {fmt(m['full_mib_s'], 1)} | "
                       f"{fmt(m['nochange'])} | {fmt(m['mutated'])} | "
                       f"{fmt(m['peak_rss_mib'], 0)} | {fmt(m['repo_mib_full'], 1)} | "
                       f"{fmt(m['repo_mib_end'], 1)} |")
        ra = s["ratios"]
        if ra:
            def cell(key):
                x = ra[key]
                return "n/a" if x["ratio"] is None else f"{x['ratio']:.2f}x ({x['vs']})"
            out.append(f"| **rdpm / best other** | {cell('full')} | {cell('full_mib_s')} | "
                       f"{cell('nochange')} | {cell('mutated')} | {cell('peak_rss_mib')} | | |")
        out += ["", "| tool | full restore s | single-file restore s | restore peak RSS MiB |",
                "|---|---:|---:|---:|"]
        for t, m in s["median"].items():
            out.append(f"| {t} | {fmt(m['restore_full'])} | {fmt(m['restore_one'])} | "
                       f"{fmt(m['restore_peak_rss_mib'], 0)} |")
        if ra:
            out.append(f"| **rdpm / best other** | {cell('restore_full')} | "
                       f"{cell('restore_one')} | {cell('restore_peak_rss_mib')} |")
        out.append("")
        js = s["median"].get("rdpm", {}).get("job_s")
        if js and any(js.values()):
            out.append("rdpm's jobs by the server's clock (StartTime to EndTime: no shell start, "
                       f"no polling): full {fmt(js['full'])} s, no-change {fmt(js['nochange'])} s, "
                       f"after mutation {fmt(js['mutated'])} s, full restore "
                       f"{fmt(js.get('restore_full'))} s, single-file restore "
                       f"{fmt(js.get('restore_one'))} s.  ")
        out.append(f"No-change floor (one `find` walk with lstat of every entry): "
                   f"{fmt(s['floor_nochange_s'], 3)} s"
                   + (f"; rdpm's no-change re-backup is {ra['nochange_vs_walk']['ratio']:.1f}x it."
                      if ra and ra["nochange_vs_walk"]["ratio"] else "."))
        if s["mutate"]:
            out.append(f"Mutation: `{s['mutate']}`.")
        for t in s["median"]:
            errs = [f"run {i + 1}: {r[t]['error'].splitlines()[0]}"
                    for i, r in enumerate(s["runs"]) if "error" in r[t]]
            if errs:
                out.append(f"**{t} failed** — " + "; ".join(errs))
    out += ["", "Ratios: times and memory are rdpm divided by the best of the other tools "
            "(above 1 means rdpm is slower or bigger); throughput is rdpm divided by the "
            "higher one (below 1 means rdpm is slower).", ""]
    return "\n".join(out)


def machine_meta(args, binary):
    def cmd_out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True,
                                  check=True).stdout.strip().splitlines()[0]
        except (OSError, subprocess.CalledProcessError, IndexError):
            return "unknown"
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        pass
    return {
        "mode": "quick" if args.quick else "full",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "cpu": cpu, "cpus": os.cpu_count(), "mem_gib": round(mem, 1),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "rdpm_rev": cmd_out(["git", "-C", REPO, "describe", "--always", "--dirty"]),
        "rdpm_binary": binary,
        "restic": cmd_out(["restic", "version"]) if "restic" in args.tools else "restic not run",
        "borg": cmd_out(["borg", "--version"]) if "borg" in args.tools else "borg not run",
        "rustic": cmd_out([args.rustic, "--version"]) if args.rustic else "rustic not run",
        "runs": args.runs,
        "tools": args.tools,
        "caches": ("cold: page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches) "
                   "before every step" if args.cold else
                   "caches warm: the whole data set was read into the page cache before "
                   "every step, for every tool (not dropped)"),
        "data_dir": args.data_dir, "work_dir": args.work_dir,
    }


# ------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: the 32 MiB 'quick' data set, 1 run")
    ap.add_argument("--runs", type=int, help="runs per data set (default 3; 1 with --quick)")
    ap.add_argument("--datasets", help="comma-separated, of: " + ", ".join(DATASETS)
                    + " (default mixed,many-small; quick with --quick)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of "
                    + ", ".join(TOOLS))
    ap.add_argument("--data-dir", default="/var/tmp/rdpm-bench-data",
                    help="where generated data sets are cached (default %(default)s)")
    ap.add_argument("--work-dir", default="/var/tmp/rdpm-bench-work",
                    help="scratch: the mutable copy and the repositories (default %(default)s)")
    ap.add_argument("--results-dir", default=os.path.join(HERE, "results"),
                    help="where results.md/results.json go, one directory per run "
                    "(default %(default)s)")
    ap.add_argument("--cold", action="store_true",
                    help="drop the page cache before every step (root; affects the whole "
                    "machine) instead of warming it")
    ap.add_argument("--no-build", action="store_true", help="use target/release/rdpm as is")
    ap.add_argument("--no-install", action="store_true",
                    help="fail instead of apt-get installing missing tools")
    ap.add_argument("--tools-dir", default="/var/tmp/rdpm-bench-tools",
                    help="where rustic is built when it is not on the PATH "
                    "(default %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the repositories of each run")
    ap.add_argument("--no-browse", action="store_true",
                    help="skip the browse timing (a 100,000-entry folder's first page)")
    args = ap.parse_args()

    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in args.tools:
        if t not in TOOLS:
            die(f"unknown tool {t!r}")
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    names = (args.datasets or ("quick" if args.quick else "mixed,many-small")).split(",")
    for n in names:
        if n not in DATASETS:
            die(f"unknown data set {n!r}")
    if args.cold and not os.access("/proc/sys/vm/drop_caches", os.W_OK):
        die("--cold needs write access to /proc/sys/vm/drop_caches (root)")
    args.data_dir = os.path.abspath(args.data_dir)
    args.work_dir = os.path.abspath(args.work_dir)

    ensure_tools(args.tools, not args.no_install)
    args.rustic = ensure_rustic(os.path.abspath(args.tools_dir), not args.no_install) \
        if "rustic" in args.tools else None
    binary = build_rdpm(args.no_build) if "rdpm" in args.tools else None
    os.makedirs(args.data_dir, exist_ok=True)
    datasets = {n: ensure_dataset(args.data_dir, n) for n in names}

    meta = machine_meta(args, binary)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    outdir = os.path.join(args.results_dir, f"{stamp}-{meta['mode']}")
    os.makedirs(outdir, exist_ok=True)
    log(f"results and logs in {outdir}; {meta['caches']}")

    summaries = {}
    for n in names:
        files, size = tree_stats(datasets[n])
        runs = [one_run(args, n, datasets[n], i, binary, outdir) for i in range(args.runs)]
        summaries[n] = summarize(n, files, size, runs, args.tools)
    # The copies stay: the next run restores them in seconds instead of copying.
    log(f"scratch copies of the data sets stay in {os.path.join(args.work_dir, 'src')}")

    browse = None
    if "rdpm" in args.tools and not args.no_browse:
        try:
            browse = browse_bench(args, binary, outdir,
                                  entries=10_000 if args.quick else 100_000)
        except (StepFailed, OSError) as e:
            log(f"browse benchmark FAILED: {e}")
    md = render(meta, summaries)
    if browse:
        n = "10,000" if args.quick else "100,000"
        md += (f"\n## Browsing\n\nFirst page (1,000 items) of a {n}-entry folder through the "
               f"server's API, a fresh browse each time: median {statistics.median(browse):.0f} ms "
               f"(min {min(browse):.0f}, max {max(browse):.0f}; {len(browse)} tries).\n")
    with open(os.path.join(outdir, "results.md"), "w", encoding="utf-8") as f:
        f.write(md)
    with open(os.path.join(outdir, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "datasets": summaries, "browse_ms": browse}, f, indent=2)
        f.write("\n")
    print(md)
    log(f"wrote {outdir}/results.md and results.json")
    failed = any("error" in r[t] for s in summaries.values() for r in s["runs"]
                 for t in args.tools)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
