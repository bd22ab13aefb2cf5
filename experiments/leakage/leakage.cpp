// experiments/leakage: plays the curious rank. Run under mpirun, one rank per domain: every
// rank trains as `train` does (FederatedTrainer, the real communicator, the real secure
// aggregation and DP-SGD), and rank 0 records what it receives in each gate step and attacks
// it. The other ranks are the victims; they tell rank 0 their batches' texts afterwards, on a
// separate channel, for scoring only. Prints one JSON object per setting:
//   {"mode": ..., "batch": B, "epsilon": ε or null, "noise": z, "rate": r, "texts": n}
// rate: the fraction of the victims' batch texts the attack identified (features: the
// nearest candidate is the text; gradients: the text is among the B (or 3B) candidates
// closest to the gradient's span). The candidate pool: every domain's train, validation and
// test texts (the victims' texts and distractors), encoded by rank 0 with the public encoder.
#include <boost/program_options.hpp>

#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "collective.h"  // src/cli: how an MPI command ends on an error
#include "moecollab/comm/agreement.h"
#include "moecollab/comm/forwarding_communicator.h"
#include "moecollab/comm/mpi_communicator.h"
#include "moecollab/comm/secure_aggregation.h"
#include "moecollab/privacy/leakage_attacks.h"
#include "moecollab/train/federated_trainer.h"
#include "moecollab/util/strings.h"

namespace po = boost::program_options;
using namespace moecollab;

namespace {

// Records what this rank contributes to and receives from the collectives it is asked for.
class RecordingCommunicator : public ForwardingCommunicator {
 public:
  using ForwardingCommunicator::ForwardingCommunicator;
  void allreduce_sum(torch::Tensor& tensor) override {
    sent_sum = tensor.clone();
    ForwardingCommunicator::allreduce_sum(tensor);
    received_sum = tensor.clone();
  }
  torch::Tensor allgather_rows(const torch::Tensor& local, std::vector<std::int64_t>* counts = nullptr) override {
    auto out = ForwardingCommunicator::allgather_rows(local, counts);
    if (local.dim() == 2 && local.size(0) > 0 && local.is_floating_point()) gathered = out.clone();
    return out;
  }
  torch::Tensor sent_sum, received_sum, gathered;  // the last of each
};

struct Pool {
  torch::Tensor features;  // m×d
  std::vector<std::string> texts;
};

// Every domain's texts, encoded as the run encodes them (the attacker's candidate pool).
Pool candidate_pool(const std::vector<std::string>& dirs, const Tokenizer& tokenizer, Encoder& encoder,
                    const TrainOptions& o) {
  Pool pool;
  std::vector<torch::Tensor> parts;
  for (const auto& dir : dirs) {
    const auto domain = load_domain(dir);
    DomainShard shard(domain, tokenizer, o.max_length, 0);
    shard.cache_features(encoder, kFeatureCacheChunk);
    for (int s = 0; s < 3; ++s) parts.push_back(shard.cache[s]);
    for (const auto* split : {&domain.train, &domain.val, &domain.test}) {
      for (const auto& e : *split) pool.texts.push_back(e.text);
    }
  }
  pool.features = torch::cat(parts);
  if (pool.features.size(0) != static_cast<std::int64_t>(pool.texts.size())) {
    throw Error("leakage: the pool's features and texts differ in count");
  }
  return pool;
}

struct Setting {
  std::string mode;  // features, experts, secure (experts + secure aggregation), dp (experts + DP-SGD)
  std::size_t batch = 1;
  double epsilon = 0;  // dp: the run's target ε
};

// One setting: `steps` gate steps, rank 0 attacking each. Returns (hits, texts) on rank 0.
std::pair<std::int64_t, std::int64_t> attack(MpiCommunicator& mpi, const Setting& s, TrainOptions o, const Domain& own,
                                             std::shared_ptr<const Tokenizer> tokenizer, const Pool& pool, int steps,
                                             double* noise) {
  const bool secure = s.mode == "secure";
  o.batch_size = s.batch;
  o.exchange = s.mode == "features" ? ExchangeMode::kFeatures : ExchangeMode::kExperts;
  if (s.epsilon > 0) {
    o.dp.target_epsilon = s.epsilon;
    o.dp.distributed = secure;
  }
  std::optional<SecureAggregationCommunicator> masked;
  if (secure) masked.emplace(mpi);
  RecordingCommunicator rec(secure ? static_cast<Communicator&>(*masked) : mpi);
  FederatedTrainer trainer(o, own, tokenizer, rec);
  *noise = trainer.dp_noise_multiplier();
  const std::int64_t experts = mpi.size(), hidden = o.encoder.hidden;
  std::int64_t hits = 0, texts = 0;
  for (int step = 0; step < steps; ++step) {
    auto replay = trainer.shard().sampler;  // the rows this step draws (the victim's truth)
    const auto rows = replay.next(o.batch_size);
    trainer.collaborative_step();
    std::vector<std::string> mine;
    for (auto r : rows) mine.push_back(own.train.at(r).text);
    const auto batches = mpi.allgather_strings(join_lines(mine));  // scoring channel, not the attack's
    // What rank 0 sees of each victim: its feature rows (features), its gradient contribution
    // (experts, as an all-reduce exposes it), or only the sum over ranks (secure aggregation).
    const auto gradient = (secure ? rec.received_sum : rec.sent_sum).narrow(0, 0, experts * hidden);
    const auto own_part = rec.sent_sum.narrow(0, 0, experts * hidden);
    const auto contributions = mpi.allgather_rows(gradient.reshape({1, -1}));
    const auto features = s.mode == "features" ? rec.gathered : torch::Tensor();
    const auto sizes = mpi.allgather_rows(torch::tensor({static_cast<std::int64_t>(rows.size())}, torch::kInt64));
    if (mpi.rank() != 0) continue;
    std::int64_t offset = sizes[0].item<std::int64_t>();
    std::vector<std::string> victims;
    for (int r = 1; r < mpi.size(); ++r) {
      const auto truth = split_lines(batches[static_cast<std::size_t>(r)]);
      victims.insert(victims.end(), truth.begin(), truth.end());
      const auto b = static_cast<std::int64_t>(truth.size());
      texts += b;
      if (s.mode == "features") {
        const auto nearest = privacy::nearest_candidates(features.narrow(0, offset, b), pool.features);
        for (std::int64_t i = 0; i < b; ++i) {
          hits += pool.texts[static_cast<std::size_t>(nearest[i].item<std::int64_t>())] == truth[i];
        }
        offset += b;
      } else if (!secure) {
        const auto grad = contributions[r].reshape({experts, hidden});
        const auto ranking = privacy::rank_by_gradient_span(grad, pool.features, std::min(b, experts));
        const std::multiset<std::string> want(truth.begin(), truth.end());
        for (std::int64_t i = 0; i < b; ++i) {
          hits += want.count(pool.texts[static_cast<std::size_t>(ranking.order[i].item<std::int64_t>())]) > 0;
        }
      }
    }
    if (secure) {  // the sum minus rank 0's own part: every victim's batch at once
      const auto others = (gradient - own_part).reshape({experts, hidden});
      const auto n = static_cast<std::int64_t>(victims.size());
      const auto ranking = privacy::rank_by_gradient_span(others, pool.features, std::min(n, experts));
      const std::multiset<std::string> want(victims.begin(), victims.end());
      for (std::int64_t i = 0; i < n; ++i) {
        hits += want.count(pool.texts[static_cast<std::size_t>(ranking.order[i].item<std::int64_t>())]) > 0;
      }
    }
  }
  return {hits, texts};
}

std::vector<double> numbers(const std::string& list) {
  std::vector<double> out;
  std::istringstream in(list);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stod(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  MpiCommunicator mpi(&argc, &argv);
  return cli::run_collectively(mpi, "leakage", [&] {
    std::vector<std::string> dirs;
    std::string vocab, batches = "1,4,32", epsilons = "1,2,4,8,16,64";
    int steps = 8;
    TrainOptions o;
    o.max_length = 32;
    po::options_description options("experiments/leakage (under mpirun, one rank per --domain)");
    options.add_options()("help", "this text")("domain", po::value(&dirs)->composing(), "a domain directory")(
        "vocab", po::value(&vocab)->required(), "vocab.txt")("steps", po::value(&steps)->default_value(steps),
                                                             "gate steps attacked per setting")(
        "batches", po::value(&batches)->default_value(batches), "batch sizes, comma-separated")(
        "epsilons", po::value(&epsilons)->default_value(epsilons),
        "the DP settings' target epsilons (for the demo schedule: 4 rounds of 100 + 50 steps)")(
        "max-length", po::value(&o.max_length)->default_value(o.max_length), "tokens per text")(
        "dp-clip", po::value(&o.dp.clip)->default_value(o.dp.clip), "DP-SGD's clipping norm C");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      if (mpi.rank() == 0) std::cout << options << "\n";
      return 0;
    }
    po::notify(vm);
    if (static_cast<int>(dirs.size()) != mpi.size()) throw AgreedError("leakage: one rank per --domain");
    const auto tokenizer = std::make_shared<WordPieceTokenizer>(Vocabulary::load(vocab), WordPieceOptions{true});
    o.loss.balance_kind = BalanceLoss::kNone;  // one objective for every setting (DP-SGD needs it)
    o.rounds = 4;                              // the demo's schedule: what --dp-epsilon is spent over
    o.local_steps = 100;
    o.gate_steps = 50;
    o.encoder.vocab_size = static_cast<std::int64_t>(tokenizer->vocabulary().size());
    const auto own = load_domain(dirs[static_cast<std::size_t>(mpi.rank())]);
    Pool pool;
    if (mpi.rank() == 0) {
      auto encoder = make_encoder(o);
      encoder->eval();
      pool = candidate_pool(dirs, *tokenizer, encoder, o);
      std::cerr << "leakage: candidate pool of " << pool.texts.size() << " texts\n";
    }
    std::vector<Setting> settings;
    for (double b : numbers(batches)) {
      const auto batch = static_cast<std::size_t>(b);
      for (const char* mode : {"features", "experts", "secure"}) settings.push_back({mode, batch, 0});
      for (double eps : numbers(epsilons)) settings.push_back({"dp", batch, eps});
    }
    for (const auto& s : settings) {
      double noise = 0;
      const auto [hits, texts] = attack(mpi, s, o, own, tokenizer, pool, steps, &noise);
      if (mpi.rank() != 0) continue;
      std::cout << "{\"mode\": \"" << s.mode << "\", \"batch\": " << s.batch
                << ", \"epsilon\": " << (s.epsilon > 0 ? std::to_string(s.epsilon) : "null") << ", \"noise\": " << noise
                << ", \"rate\": " << static_cast<double>(hits) / static_cast<double>(texts) << ", \"texts\": " << texts
                << "}" << std::endl;
    }
    return 0;
  });
}
