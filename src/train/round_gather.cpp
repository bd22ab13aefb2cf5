#include "moecollab/train/round_gather.h"

#include <torch/torch.h>

namespace moecollab {
namespace {

// A report as one row: moe acc, moe F1, expert acc, expert F1, count, then E
// utilizations, then E top-1 counts.
constexpr std::int64_t kReportScalars = 5;

torch::Tensor report_row(const DomainReport& r) {
  std::vector<double> v = {r.moe.accuracy, r.moe.macro_f1, r.expert.accuracy, r.expert.macro_f1,
                           static_cast<double>(r.moe.count)};
  v.insert(v.end(), r.utilization.begin(), r.utilization.end());
  v.insert(v.end(), r.top1.begin(), r.top1.end());
  return torch::tensor(v, torch::kFloat64).unsqueeze(0);
}

DomainReport report_of(const std::string& name, const torch::Tensor& row) {
  DomainReport r;
  r.domain = name;
  const auto v = row.contiguous();
  const double* p = v.data_ptr<double>();
  r.moe = {p[0], p[1], static_cast<std::size_t>(p[4])};
  r.expert = {p[2], p[3], static_cast<std::size_t>(p[4])};
  const auto experts = (v.numel() - kReportScalars) / 2;
  r.utilization.assign(p + kReportScalars, p + kReportScalars + experts);
  r.top1.assign(p + kReportScalars + experts, p + v.numel());
  return r;
}

// Routing samples as rows: owner rank, label, predicted, then the E gate weights.
constexpr std::int64_t kRoutingScalars = 3;

torch::Tensor routing_rows(const std::vector<RoutingSample>& samples, std::int64_t rank, std::int64_t experts) {
  auto rows = torch::zeros({static_cast<std::int64_t>(samples.size()), kRoutingScalars + experts}, torch::kFloat64);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto row = static_cast<std::int64_t>(i);
    rows[row][0] = static_cast<double>(rank);
    rows[row][1] = static_cast<double>(samples[i].label);
    rows[row][2] = static_cast<double>(samples[i].predicted);
    rows[row].narrow(0, kRoutingScalars, experts).copy_(torch::tensor(samples[i].gate, torch::kFloat64));
  }
  return rows;
}

}  // namespace

std::vector<DomainReport> gather_reports(Communicator& comm, const DomainReport& mine,
                                         const std::vector<std::string>& domains, bool routing) {
  const auto all = comm.allgather_rows(report_row(mine));
  std::vector<DomainReport> reports;
  for (std::int64_t r = 0; r < all.size(0); ++r)
    reports.push_back(report_of(domains[static_cast<std::size_t>(r)], all[r]));
  if (!routing) return reports;
  const auto records = comm.allgather_rows(routing_rows(mine.routing, comm.rank(), comm.size()));
  for (std::int64_t i = 0; i < records.size(0); ++i) {
    const auto row = records[i].contiguous();
    const double* p = row.data_ptr<double>();
    reports[static_cast<std::size_t>(p[0])].routing.push_back(
        {static_cast<std::int64_t>(p[1]), static_cast<std::int64_t>(p[2]),
         std::vector<double>(p + kRoutingScalars, p + row.numel())});
  }
  return reports;
}

std::vector<SamplerPosition> gather_sampler_positions(Communicator& comm, SamplerPosition mine) {
  const auto rows = comm.allgather_rows(
      torch::tensor({static_cast<std::int64_t>(mine.epoch), static_cast<std::int64_t>(mine.cursor)}, torch::kInt64)
          .unsqueeze(0));
  std::vector<SamplerPosition> out;
  for (std::int64_t r = 0; r < rows.size(0); ++r) {
    out.push_back({static_cast<std::uint64_t>(rows[r][0].item<std::int64_t>()),
                   static_cast<std::uint64_t>(rows[r][1].item<std::int64_t>())});
  }
  return out;
}

}  // namespace moecollab
