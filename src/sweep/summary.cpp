#include "moecollab/sweep/summary.h"

#include <cstdio>
#include <filesystem>
#include <map>

#include "moecollab/io/hdf5.h"
#include "moecollab/io/run_dir.h"
#include "moecollab/io/run_log_reader.h"
#include "moecollab/train/utilization.h"
#include "moecollab/util/error.h"
#include "moecollab/util/files.h"

namespace moecollab {
namespace {

namespace fs = std::filesystem;

std::vector<double> row(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

// The run's logs, the first run's and those of its resumptions.
std::vector<std::string> run_logs(const std::string& run_dir) {
  std::vector<std::string> logs;
  if (!fs::is_directory(run_dir)) return logs;
  for (const auto& entry : fs::directory_iterator(run_dir)) {
    const auto name = entry.path().filename().string();
    if (run_dir::is_log_name(name)) {
      logs.push_back(entry.path().string());
    }
  }
  return logs;
}

std::string text(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", x);
  return buffer;
}

}  // namespace

RunResult summarize_log(const RunLogData& log, const std::string& path) {
  if (log.rounds() == 0) throw Error(path + ": no finished round logged");
  RunResult result;
  result.log = path;
  const auto r = log.rounds() - 1;
  result.round = log.round[r].item<std::int64_t>();
  result.domains = log.domains;
  result.moe_accuracy = row(log.moe_accuracy[r]);
  result.moe_macro_f1 = row(log.moe_macro_f1[r]);
  result.mean_accuracy = mean(result.moe_accuracy);
  result.mean_macro_f1 = mean(result.moe_macro_f1);
  std::vector<std::vector<double>> utilization;
  for (std::int64_t d = 0; d < log.utilization.size(1); ++d) utilization.push_back(row(log.utilization[r][d]));
  const auto load = global_load(utilization, row(log.top1_counts[r].sum(1)));
  result.load_balance = load_balance(load);
  result.utilization_rate = utilization_rate(load);
  result.specialization = normalized_specialization(row(log.specialization[r]), log.domains.size());
  result.kl_utilization = log.kl_utilization[r].item<double>();
  result.total_loss = log.loss("total")[r].item<double>();
  return result;
}

RunResult summarize_run(const SweepPoint& point) {
  RunResult result;
  for (const auto& path : run_logs(point.run_dir)) {
    const auto log = read_run_log(path);
    if (log.rounds() == 0) continue;
    if (log.round[-1].item<std::int64_t>() > result.round) result = summarize_log(log, path);
  }
  if (result.round == 0) throw Error(point.run_dir + ": no run log with a finished round (log.h5)");
  result.point = point;
  return result;
}

SweepSummary summarize_sweep(const SweepGrid& grid) {
  SweepSummary summary;
  summary.grid = grid.path;
  std::string missing;
  for (std::size_t i = 0; i < sweep_size(grid); ++i) {
    const auto point = sweep_point(grid, i);
    if (run_logs(point.run_dir).empty()) {
      missing += "\n  " + point.run_dir + " (array index " + std::to_string(i) + ")";
      continue;
    }
    summary.runs.push_back(summarize_run(point));
    const auto& domains = summary.runs.back().domains;
    if (summary.domains.empty()) summary.domains = domains;
    if (domains != summary.domains) {
      throw Error(summary.runs.back().log + ": its domains differ from " + summary.runs.front().log +
                  "'s; every run of a sweep must use the same domains");
    }
  }
  if (!missing.empty()) throw Error(grid.path + ": runs without a run log (not run yet, or failed):" + missing);
  return summary;
}

std::string format_summary_table(const SweepSummary& s) {
  std::string out = "sweep " + s.grid + ": " + std::to_string(s.runs.size()) +
                    " runs; last round's validation metrics (balance = H(load)/ln E, util = experts with >= half "
                    "their fair load, spec = mean S(e)/ln D)\n\n";
  char line[512];
  std::snprintf(line, sizeof line, "%8s %8s %5s %5s", "lambda1", "lambda2", "seed", "round");
  out += line;
  for (const auto& d : s.domains) {
    std::snprintf(line, sizeof line, " %9.9s", d.c_str());
    out += line;
  }
  out += "  mean acc  mean F1  balance   util   spec\n";
  for (const auto& r : s.runs) {
    std::snprintf(line, sizeof line, "%8s %8s %5lld %5lld", r.point.lambda1.text.c_str(), r.point.lambda2.text.c_str(),
                  static_cast<long long>(r.point.seed), static_cast<long long>(r.round));
    out += line;
    for (double a : r.moe_accuracy) {
      std::snprintf(line, sizeof line, " %9.3f", a);
      out += line;
    }
    std::snprintf(line, sizeof line, "  %8.3f %8.3f %8.3f %6.2f %6.3f\n", r.mean_accuracy, r.mean_macro_f1,
                  r.load_balance, r.utilization_rate, r.specialization);
    out += line;
  }
  // With several seeds, the mean over seeds per (λ1, λ2), in grid order.
  std::vector<std::pair<std::string, std::string>> order;
  std::map<std::pair<std::string, std::string>, std::vector<const RunResult*>> cells;
  for (const auto& r : s.runs) {
    const auto key = std::make_pair(r.point.lambda1.text, r.point.lambda2.text);
    if (cells[key].empty()) order.push_back(key);
    cells[key].push_back(&r);
  }
  if (order.size() == s.runs.size()) return out;
  out += "\nmean over seeds\n";
  std::snprintf(line, sizeof line, "%8s %8s %5s  %8s %8s %8s %6s %6s\n", "lambda1", "lambda2", "runs", "mean acc",
                "mean F1", "balance", "util", "spec");
  out += line;
  for (const auto& key : order) {
    double acc = 0, f1 = 0, balance = 0, util = 0, spec = 0;
    const auto& runs = cells[key];
    for (const auto* r : runs) {
      acc += r->mean_accuracy, f1 += r->mean_macro_f1, balance += r->load_balance, util += r->utilization_rate,
          spec += r->specialization;
    }
    const double n = static_cast<double>(runs.size());
    std::snprintf(line, sizeof line, "%8s %8s %5zu  %8.3f %8.3f %8.3f %6.2f %6.3f\n", key.first.c_str(),
                  key.second.c_str(), runs.size(), acc / n, f1 / n, balance / n, util / n, spec / n);
    out += line;
  }
  return out;
}

void write_summary_csv(const SweepSummary& s, const std::string& path) {
  write_file_atomically(path, [&](std::ostream& out) {
    out << "index,name,lambda1,lambda2,seed,round";
    for (const auto& d : s.domains) out << ",moe_acc_" << d << ",moe_f1_" << d;
    out << ",mean_acc,mean_f1,load_balance,utilization_rate,specialization,kl_utilization,total_loss\n";
    for (const auto& r : s.runs) {
      out << r.point.index << "," << r.point.name << "," << r.point.lambda1.text << "," << r.point.lambda2.text << ","
          << r.point.seed << "," << r.round;
      for (std::size_t d = 0; d < s.domains.size(); ++d)
        out << "," << text(r.moe_accuracy[d]) << "," << text(r.moe_macro_f1[d]);
      out << "," << text(r.mean_accuracy) << "," << text(r.mean_macro_f1) << "," << text(r.load_balance) << ","
          << text(r.utilization_rate) << "," << text(r.specialization) << "," << text(r.kl_utilization) << ","
          << text(r.total_loss) << "\n";
    }
  });
}

void write_summary_hdf5(const SweepSummary& s, const std::string& path) {
  const auto tmp = temporary_path(path);
  {
    const auto file = h5::open_file(tmp, h5::Mode::kCreate);
    h5::write_format(file, run_dir::kSweepSummary);
    h5::write_attribute(file, "created", utc_timestamp());
    h5::write_attribute(file, "grid", s.grid);
    h5::write_attribute(file, "domains", s.domains);
    const auto n = static_cast<std::int64_t>(s.runs.size()), d = static_cast<std::int64_t>(s.domains.size());
    std::vector<std::string> names;
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    auto index = torch::zeros({n}, torch::kInt64), seed = torch::zeros({n}, torch::kInt64),
         round = torch::zeros({n}, torch::kInt64);
    auto lambda1 = torch::zeros({n}, f64), lambda2 = torch::zeros({n}, f64), acc = torch::zeros({n, d}, f64),
         f1 = torch::zeros({n, d}, f64);
    std::map<std::string, torch::Tensor> scalars;
    for (const char* name : {"mean_accuracy", "mean_macro_f1", "load_balance", "utilization_rate", "specialization",
                             "kl_utilization", "total_loss"}) {
      scalars[name] = torch::zeros({n}, f64);
    }
    for (std::int64_t i = 0; i < n; ++i) {
      const auto& r = s.runs[i];
      names.push_back(r.point.name);
      index[i] = static_cast<std::int64_t>(r.point.index), seed[i] = r.point.seed, round[i] = r.round;
      lambda1[i] = r.point.lambda1.value, lambda2[i] = r.point.lambda2.value;
      for (std::int64_t k = 0; k < d; ++k) acc[i][k] = r.moe_accuracy[k], f1[i][k] = r.moe_macro_f1[k];
      scalars["mean_accuracy"][i] = r.mean_accuracy, scalars["mean_macro_f1"][i] = r.mean_macro_f1;
      scalars["load_balance"][i] = r.load_balance, scalars["utilization_rate"][i] = r.utilization_rate;
      scalars["specialization"][i] = r.specialization, scalars["kl_utilization"][i] = r.kl_utilization;
      scalars["total_loss"][i] = r.total_loss;
    }
    h5::write_attribute(file, "runs", names);
    h5::write_tensor(file, "index", index);
    h5::write_tensor(file, "lambda1", lambda1);
    h5::write_tensor(file, "lambda2", lambda2);
    h5::write_tensor(file, "seed", seed);
    h5::write_tensor(file, "round", round);
    h5::write_tensor(file, "moe_accuracy", acc);
    h5::write_tensor(file, "moe_macro_f1", f1);
    for (const auto& [name, t] : scalars) h5::write_tensor(file, name, t);
  }
  commit_file(tmp, path);
}

}  // namespace moecollab
