//! The `switchyard` command line: argument definitions and one function per command.

mod demo;
pub mod spec;

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use switchyard::stages::frontend::expr;
use switchyard::{
    read_npy, try_random_array, write_npy, Array, Device, Engine, Graph, OptimizerOptions, Registry, Tensor,
};

use spec::{parse_input, InputSpec, Source};

/// Inputs filled with random data bigger than this are refused (they would likely not fit).
const MAX_RANDOM_INPUT_BYTES: u64 = 16 << 30;

/// switchyard: a lazy array expression-graph engine.
#[derive(Parser, Debug)]
#[command(name = "switchyard", version, about)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats of `plan`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PlanFormat {
    /// A readable table.
    Text,
    /// Graphviz DOT.
    Dot,
    /// JSON.
    Json,
}

/// Output formats of `support-table`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TableFormat {
    /// Markdown.
    Md,
    /// JSON.
    Json,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Evaluate an expression and summarize (or save) the result.
    Eval {
        /// The expression, e.g. 'exp(x*2+1)*y - x'.
        expr: String,
        /// NAME=FILE.npy, or NAME=DTYPE[DIMS] for seeded random data.
        #[arg(long = "input", value_name = "NAME=SPEC")]
        inputs: Vec<String>,
        /// Device to run on.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Write the result to this .npy file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed for DTYPE[DIMS] inputs (input i uses seed + i).
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Show the plan for an expression without running it.
    Plan {
        /// The expression.
        expr: String,
        /// NAME=FILE.npy or NAME=DTYPE[DIMS].
        #[arg(long = "input", value_name = "NAME=SPEC")]
        inputs: Vec<String>,
        /// Device to plan for.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: PlanFormat,
        /// Skip the optimizer (dead nodes are still dropped).
        #[arg(long)]
        no_opt: bool,
        /// Also compile the kernels and print the code each backend generated.
        #[arg(long)]
        code: bool,
        /// Also compile the kernels and show the backends' kernel caches: what they hold,
        /// and for each miss which part of the key differed from the nearest cached kernel.
        #[arg(long)]
        explain_cache: bool,
    },
    /// Print which backend supports which op on which dtype, from their declarations, with
    /// the claims the conformance suite verified in this run marked.
    SupportTable {
        /// Output format.
        #[arg(long, value_enum, default_value = "md")]
        format: TableFormat,
    },
    /// List devices and backends with their versions.
    Devices,
    /// A guided tour: build a small model, show its plan, run it, time each stage.
    Demo,
    /// Time the W1..W8 workloads against the memory roofline and eager ndarray, or your own
    /// expression (`switchyard bench 'EXPR' --input x=f32[4096,4096]`) against the roofline.
    Bench {
        /// An expression to time instead of the workloads.
        expr: Option<String>,
        /// For an expression: NAME=FILE.npy, or NAME=DTYPE[DIMS] for seeded random data.
        #[arg(long = "input", value_name = "NAME=SPEC")]
        inputs: Vec<String>,
        /// For an expression: the seed of DTYPE[DIMS] inputs (input i uses seed + i).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// W1..W8, or all.
        #[arg(long, default_value = "all")]
        workload: String,
        /// Threads (default: rayon's, i.e. RAYON_NUM_THREADS or the core count).
        #[arg(long)]
        threads: Option<usize>,
        /// Timed runs per workload, after one warm-up (the median is reported).
        #[arg(long, default_value_t = 7)]
        runs: usize,
        /// One JSON object per workload instead of a table.
        #[arg(long)]
        json: bool,
        /// Device to run on (`cpu`, `gpu`, `gpu:N`).
        #[arg(long, default_value = "cpu")]
        device: String,
    },
}

/// Why a command failed: a message for the user, or an error writing its output.
#[derive(Debug)]
pub enum Failure {
    /// The command could not do what was asked (bad input, no such device, ...).
    Message(String),
    /// Writing the output failed; a broken pipe among these is not reported.
    Output(io::Error),
}

impl Failure {
    /// Whether this is a write into a pipe whose reader has gone (`... | head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Failure::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Message(m) => f.write_str(m),
            Failure::Output(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

impl From<String> for Failure {
    fn from(m: String) -> Failure {
        Failure::Message(m)
    }
}

impl From<&str> for Failure {
    fn from(m: &str) -> Failure {
        Failure::Message(m.to_string())
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Output(e)
    }
}

/// What a command returns: `Ok` once everything is written to `out`.
pub type CliResult = Result<(), Failure>;

/// Runs a command, writing what it prints to `out` (a failed write is a [`Failure::Output`]).
pub fn run(cli: Cli, out: &mut dyn Write) -> CliResult {
    match cli.command {
        Command::Eval { expr, inputs, device, out: path, seed } => {
            eval(out, &expr, &inputs, &device, path, seed)
        }
        Command::Plan { expr, inputs, device, format, no_opt, code, explain_cache } => {
            let show = PlanExtras { code, explain_cache };
            plan(out, &expr, &inputs, &device, format, no_opt, show)
        }
        Command::SupportTable { format } => {
            let table = switchyard_conformance::verified_support_table(&Engine::default_registry());
            match format {
                TableFormat::Md => write!(out, "{}", table.to_markdown())?,
                TableFormat::Json => writeln!(out, "{}", table.to_json())?,
            }
            Ok(())
        }
        Command::Devices => devices(out),
        Command::Demo => demo::run(out),
        Command::Bench { expr: Some(expr), inputs, seed, workload, threads, runs, json, device } => {
            if workload != "all" {
                return Err("give either an expression or --workload, not both".into());
            }
            let run = BenchRun { threads, runs, json };
            bench_expression(out, &expr, &inputs, seed, run, &device)
        }
        Command::Bench { expr: None, inputs, workload, threads, runs, json, device, .. } => {
            if !inputs.is_empty() {
                return Err(
                    "--input needs an expression to bind to: switchyard bench 'EXPR' --input ...".into()
                );
            }
            bench(out, &workload, threads, runs, json, &device)
        }
    }
}

/// Parses a device name and, for a GPU, checks that it exists here.
fn parse_device(text: &str) -> Result<Device, String> {
    let device = Device::parse(text)?;
    if device.kind == switchyard::DeviceKind::Gpu {
        let found = Engine::global().registry().devices();
        if !found.iter().any(|d| d.device == device) {
            let here = if found.is_empty() {
                "no GPU device is available here".to_string()
            } else {
                let names: Vec<String> =
                    found.iter().map(|d| format!("{} ({})", d.device, d.adapter)).collect();
                format!("GPU devices here: {}", names.join(", "))
            };
            return Err(format!("device `{device}` not found: {here}; `switchyard devices` lists them"));
        }
    }
    Ok(device)
}

/// Declares the inputs in a graph (types only) and loads or generates their data.
fn declare(
    g: &Graph,
    specs: &[String],
    seed: u64,
    with_data: bool,
) -> Result<(expr::Env, Vec<(String, Array)>), String> {
    let mut env: expr::Env = HashMap::new();
    let mut arrays = Vec::new();
    for (i, raw) in specs.iter().enumerate() {
        let InputSpec { name, source } = parse_input(raw)?;
        if env.contains_key(&name) {
            return Err(format!("input `{name}` is given twice"));
        }
        let (dtype, shape, array) = match source {
            Source::File(path) => {
                let a = read_npy(&path).map_err(|e| format!("--input {name}: {e}"))?;
                (a.dtype(), a.shape().clone(), Some(a))
            }
            Source::Typed(dtype, shape) => {
                let data = if with_data {
                    let bytes = (shape.numel() as u64).saturating_mul(dtype.size_bytes() as u64);
                    if bytes > MAX_RANDOM_INPUT_BYTES {
                        return Err(format!(
                            "--input {name}: {dtype}{shape} needs {bytes} bytes; \
                             refusing to generate more than {MAX_RANDOM_INPUT_BYTES} bytes"
                        ));
                    }
                    Some(
                        try_random_array(dtype, &shape, seed.wrapping_add(i as u64))
                            .map_err(|e| format!("--input {name}: {e}"))?,
                    )
                } else {
                    None
                };
                (dtype, shape, data)
            }
        };
        let t: Tensor = g.input(&name, dtype, shape.dims()).map_err(|e| e.to_string())?;
        env.insert(name.clone(), t);
        if let Some(a) = array {
            arrays.push((name, a));
        }
    }
    Ok((env, arrays))
}

fn eval(
    out: &mut dyn Write,
    source: &str,
    specs: &[String],
    device: &str,
    path: Option<PathBuf>,
    seed: u64,
) -> CliResult {
    let device = parse_device(device)?;
    let g = Graph::new();
    let (env, arrays) = declare(&g, specs, seed, true)?;
    let t = expr::build(&g, source, &env).map_err(|e| e.to_string())?;
    let exe = g.compile(&[&t], device).map_err(|e| e.to_string())?;
    let bound: Vec<(&str, &Array)> = arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
    let mut results = exe.run_round_trip(&bound).map_err(|e| e.to_string())?;
    let result = results.pop().ok_or("the executable returned no result")?;
    writeln!(out, "{}", summarize(&result))?;
    if let Some(path) = path {
        write_npy(&path, &result).map_err(|e| e.to_string())?;
        writeln!(out, "wrote {}", path.display())?;
    }
    Ok(())
}

/// `dtype[shape] [values...]` and, for numeric results, sum, min, max and NaN count.
pub fn summarize(a: &Array) -> String {
    let mut s = format!("result: {a}");
    if a.dtype().is_numeric() && !a.is_empty() {
        let v = a.to_f64_vec();
        let nans = v.iter().filter(|x| x.is_nan()).count();
        let finite: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
        let sum: f64 = finite.iter().sum();
        let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        s.push_str(&format!("\n  sum {} min {} max {} nan {nans}", stat(sum), stat(min), stat(max)));
    }
    s
}

/// A summary statistic: fixed notation in a readable range, scientific outside it.
fn stat(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e7).contains(&x.abs()) {
        format!("{x:.6}")
    } else {
        format!("{x:.6e}")
    }
}

/// What `plan` shows besides the plan (both compile the kernels).
#[derive(Clone, Copy, Debug)]
struct PlanExtras {
    code: bool,
    explain_cache: bool,
}

fn plan(
    out: &mut dyn Write,
    source: &str,
    specs: &[String],
    device: &str,
    format: PlanFormat,
    no_opt: bool,
    show: PlanExtras,
) -> CliResult {
    let device = parse_device(device)?;
    let mut engine = Engine::global();
    if no_opt {
        engine = engine.with_options(OptimizerOptions::none());
    }
    let g = Graph::with_engine(engine);
    let (env, _) = declare(&g, specs, 0, false)?;
    let t = expr::build(&g, source, &env).map_err(|e| e.to_string())?;
    let plan = g.plan(&[&t], device).map_err(|e| e.to_string())?;
    let json_with_caches = show.explain_cache && matches!(format, PlanFormat::Json);
    match format {
        PlanFormat::Text => writeln!(out, "{plan}")?,
        PlanFormat::Dot => write!(out, "{}", plan.to_dot())?,
        PlanFormat::Json if json_with_caches => {}
        PlanFormat::Json => writeln!(out, "{}", plan.to_json())?,
    }
    if !show.code && !show.explain_cache {
        return Ok(());
    }
    let plan_json = json_with_caches.then(|| plan.to_json());
    let exe = g.compile_plan(plan).map_err(|e| e.to_string())?;
    if show.code {
        for step in &exe.plan().steps {
            writeln!(out, "\n; kernel {} on {}", step.id, step.label())?;
            let code = match (step.transfer(), exe.kernel(step.id)) {
                (Some((from, to)), _) => {
                    format!("; explicit to_device copy of {} bytes: {from} -> {to}", step.bytes_read)
                }
                (None, Some(k)) => {
                    k.code().unwrap_or_else(|| "; (interpreted: no generated code)".to_string())
                }
                (None, None) => "; (not compiled)".to_string(),
            };
            writeln!(out, "{code}")?;
        }
    }
    if show.explain_cache {
        let caches = g.engine().kernel_caches();
        match plan_json {
            Some(plan_json) => {
                let plan: serde_json::Value = serde_json::from_str(&plan_json).map_err(|e| e.to_string())?;
                let both = serde_json::json!({ "plan": plan, "kernel_caches": caches });
                writeln!(out, "{both}")?;
            }
            None => {
                // Caches this plan never touched (no entries, no lookups) say nothing.
                for c in caches.iter().filter(|c| !c.entries.is_empty() || c.hits + c.misses > 0) {
                    write!(out, "\n{c}")?;
                }
            }
        }
    }
    Ok(())
}

/// How `bench` runs: threads, timed runs, output form.
#[derive(Clone, Copy, Debug)]
struct BenchRun {
    threads: Option<usize>,
    runs: usize,
    json: bool,
}

/// The pool the measurements run in (only they run there; output is written on this thread).
fn bench_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, String> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            return Err("--threads must be at least 1".into());
        }
        builder = builder.num_threads(n);
    }
    builder.build().map_err(|e| format!("cannot start {threads:?} threads: {e}"))
}

/// `switchyard bench 'EXPR' --input ...`: a user's expression timed like the workloads.
fn bench_expression(
    out: &mut dyn Write,
    source: &str,
    specs: &[String],
    seed: u64,
    run: BenchRun,
    device: &str,
) -> CliResult {
    use switchyard::bench::{run_expression, triad_gbps};
    let device = parse_device(device)?;
    if run.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let g = Graph::new();
    let (env, arrays) = declare(&g, specs, seed, true)?;
    let t = expr::build(&g, source, &env).map_err(|e| e.to_string())?;
    let bound: Vec<(&str, &Array)> = arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
    let pool = bench_pool(run.threads)?;
    let r = pool.install(|| {
        let triad = triad_gbps();
        run_expression(source, &g, &t, &bound, run.runs, triad, device)
    });
    let r = r.map_err(|e| e.to_string())?;
    if run.json {
        writeln!(out, "{}", serde_json::to_string(&r).map_err(|e| e.to_string())?)?;
        return Ok(());
    }
    writeln!(
        out,
        "device {}, threads {}, host triad {:.1} GB/s, median of {} runs after warm-up\n",
        r.device, r.threads, r.triad_gbps, run.runs
    )?;
    writeln!(
        out,
        "{:>10} {:>10} {:>8} {:>9} {:>8} {:>12} {:>10}",
        "median ms", "min ms", "GB/s", "floor ms", "x floor", "first call", "min bytes"
    )?;
    writeln!(
        out,
        "{:>10.3} {:>10.3} {:>8.1} {:>9.3} {:>8.1} {:>10.1}ms {:>10}",
        r.median_ms,
        r.min_ms,
        r.gbps,
        r.floor_ms,
        r.median_ms / r.floor_ms,
        r.first_call_ms,
        switchyard::stages::lower::human_bytes(r.min_bytes)
    )?;
    let interpreted = if r.interpreted == 0 {
        String::new()
    } else {
        format!(" ({} on cpu.reference, the interpreter: `switchyard plan` says why)", r.interpreted)
    };
    writeln!(out, "{} kernel(s){interpreted}", r.kernels)?;
    Ok(())
}

fn bench(
    out: &mut dyn Write,
    workload: &str,
    threads: Option<usize>,
    runs: usize,
    json: bool,
    device: &str,
) -> CliResult {
    use switchyard::bench::{run_on, triad_gbps, WORKLOADS};
    let device = parse_device(device)?;
    let ids: Vec<&str> = if workload.eq_ignore_ascii_case("all") {
        WORKLOADS.to_vec()
    } else {
        let id = WORKLOADS
            .iter()
            .find(|w| w.eq_ignore_ascii_case(workload))
            .ok_or_else(|| format!("unknown workload `{workload}`; expected W1..W8 or all"))?;
        vec![*id]
    };
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let pool = bench_pool(threads)?;
    // Only the measurements run in the pool; the output is written here, on this thread.
    let (triad, pool_threads) = pool.install(|| (triad_gbps(), rayon::current_num_threads()));
    if !json {
        writeln!(
            out,
            "device {device}, threads {pool_threads}, host triad {triad:.1} GB/s, median of {runs} runs after warm-up\n"
        )?;
        writeln!(
            out,
            "{:<4} {:>10} {:>10} {:>8} {:>9} {:>8} {:>11} {:>12} {:>9}",
            "", "median ms", "min ms", "GB/s", "floor ms", "x floor", "ndarray ms", "first call", "max diff"
        )?;
    }
    for id in ids {
        let r = match pool.install(|| run_on(id, runs, triad, device)) {
            Ok(r) => r,
            // On a device, a workload it cannot plan is reported and skipped.
            Err(e) if device != Device::CPU => {
                let why = e.to_string().replace('\n', "\n     ");
                writeln!(out, "{id:<4} not run on {device}: {why}")?;
                continue;
            }
            Err(e) => return Err(format!("{id}: {e}").into()),
        };
        if json {
            writeln!(out, "{}", serde_json::to_string(&r).map_err(|e| e.to_string())?)?;
        } else {
            let extra = match (id, r.gflops) {
                ("W7", _) => format!("  ({:.1} us per call)", r.median_ms * 1e3),
                (_, Some(g)) => format!("  ({g:.1} GFLOP/s)"),
                _ => String::new(),
            };
            writeln!(
                out,
                "{:<4} {:>10.3} {:>10.3} {:>8.1} {:>9.2} {:>8.1} {:>11.2} {:>10.1}ms {:>9.1e}{extra}",
                r.workload,
                r.median_ms,
                r.min_ms,
                r.gbps,
                r.floor_ms,
                r.median_ms / r.floor_ms,
                r.ndarray_ms,
                r.first_call_ms,
                r.max_rel_diff
            )?;
        }
    }
    Ok(())
}

fn devices(out: &mut dyn Write) -> CliResult {
    let registry = Engine::default_registry();
    writeln!(out, "op set version {}", switchyard::OP_SET_VERSION)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    writeln!(out, "cpu: host CPU, {threads} hardware threads")?;
    print_backends(out, &registry, switchyard::DeviceKind::Cpu)?;
    let gpus = registry.devices();
    if registry.for_device(switchyard::DeviceKind::Gpu).is_empty() {
        writeln!(out, "gpu: not available (no backend registered for gpu devices in this build)")?;
        return Ok(());
    }
    if gpus.is_empty() {
        writeln!(out, "gpu: no device found (no Vulkan adapter or CUDA driver here)")?;
    }
    for d in &gpus {
        let kind = if d.software { "software" } else { "hardware" };
        writeln!(out, "{}: {} via {} ({kind})", d.device, d.adapter, d.runtime)?;
    }
    print_backends(out, &registry, switchyard::DeviceKind::Gpu)
}

fn print_backends(out: &mut dyn Write, registry: &Registry, kind: switchyard::DeviceKind) -> CliResult {
    for b in registry.for_device(kind) {
        writeln!(
            out,
            "  {:<16} version {:<8} op set {:<5} priority {}",
            b.name(),
            b.version(),
            b.op_set_version().to_string(),
            b.priority()
        )?;
    }
    Ok(())
}
