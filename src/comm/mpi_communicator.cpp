#include "moecollab/comm/mpi_communicator.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "moecollab/util/error.h"

namespace moecollab {
namespace {

MPI_Datatype mpi_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32:
      return MPI_FLOAT;
    case torch::kFloat64:
      return MPI_DOUBLE;
    case torch::kInt64:
      return MPI_INT64_T;
    case torch::kInt32:
      return MPI_INT32_T;
    case torch::kUInt8:
      return MPI_UINT8_T;
    default:
      throw Error(std::string("MPI communicator: unsupported dtype ") + std::string(c10::toString(t.scalar_type())));
  }
}

int checked_int(std::int64_t n, const char* what) {
  if (n < 0 || n > INT_MAX) throw Error(std::string("MPI communicator: ") + what + " exceeds MPI's int count");
  return static_cast<int>(n);
}

// Elements per row: the product of all dimensions but the first.
std::int64_t row_elements(const torch::Tensor& t) {
  std::int64_t n = 1;
  for (std::int64_t d = 1; d < t.dim(); ++d) n *= t.size(d);
  return n;
}

std::vector<std::int64_t> trailing_shape(const torch::Tensor& t) { return t.sizes().slice(1).vec(); }

}  // namespace

MpiCommunicator::MpiCommunicator(int* argc, char*** argv) {
  // srun started several tasks without a process-management interface the MPI
  // library can use: Open MPI then aborts inside MPI_Init with a generic message,
  // or (other builds) starts every task as a job of its own. Say what happened first.
  const char* step_tasks = std::getenv("SLURM_STEP_NUM_TASKS");
  const int tasks = step_tasks ? std::atoi(step_tasks) : 0;
  const auto srun_problem = "srun started " + std::to_string(tasks) +
                            " tasks that cannot join one MPI job (MPI_COMM_WORLD would have 1 rank each): launch "
                            "with 'srun --mpi=pmix' (see 'srun --mpi=list'), or mpirun inside the allocation";
  const bool has_pmi = std::getenv("PMIX_RANK") || std::getenv("PMI_RANK") || std::getenv("OMPI_COMM_WORLD_SIZE");
  if (tasks > 1 && !has_pmi) throw Error(srun_problem);
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    owns_mpi_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (tasks > 1 && size_ == 1) {
    if (owns_mpi_) MPI_Finalize();
    throw Error(srun_problem);
  }
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  // The node's CPUs: the union of its ranks' affinity masks (each rank bound to a core of
  // its own, or all of them free on every core).
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) CPU_SET(0, &mask);
  std::vector<cpu_set_t> masks(static_cast<std::size_t>(local_size_));
  MPI_Allgather(&mask, sizeof mask, MPI_BYTE, masks.data(), sizeof mask, MPI_BYTE, node);
  cpu_set_t all;
  CPU_ZERO(&all);
  for (auto& m : masks) CPU_OR(&all, &all, &m);
  node_cpus_ = std::max(1, CPU_COUNT(&all));
  MPI_Comm_free(&node);
  sleep_while_waiting_ = local_size_ > node_cpus_;
  if (const char* wait = std::getenv("MOECOLLAB_MPI_WAIT")) {
    if (std::strcmp(wait, "busy") == 0) {
      sleep_while_waiting_ = false;
    } else if (std::strcmp(wait, "sleep") == 0) {
      sleep_while_waiting_ = true;
    } else if (std::strcmp(wait, "auto") != 0) {
      throw Error(std::string("MOECOLLAB_MPI_WAIT is '") + wait + "': use busy, sleep or auto");
    }
  }
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owns_mpi_ && !finalized) MPI_Finalize();
}

void MpiCommunicator::allreduce(torch::Tensor& tensor, MPI_Op op, const char* name) {
  if (!tensor.is_contiguous()) throw Error(std::string(name) + ": tensor must be contiguous");
  OpTimer timer(stats_, name, tensor.nbytes());
  const int n = checked_int(tensor.numel(), name);
  if (!sleep_while_waiting_ || tensor.nbytes() < kSleepingWaitBytes) {
    MPI_Allreduce(MPI_IN_PLACE, tensor.data_ptr(), n, mpi_type(tensor), op, MPI_COMM_WORLD);
    return;
  }
  MPI_Request request;
  MPI_Iallreduce(MPI_IN_PLACE, tensor.data_ptr(), n, mpi_type(tensor), op, MPI_COMM_WORLD, &request);
  // Yield between polls for the first millisecond, then sleep 20 us between them, so that a
  // long wait (a peer's longer batch) leaves the core to the ranks still computing. 20 us
  // measured alike to 5 and 50 us on the pre-training (4 ranks, 2 cores).
  const auto yield_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
  int done = 0;
  MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  while (!done) {
    if (std::chrono::steady_clock::now() < yield_until)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  }
}

void MpiCommunicator::allreduce_sum(torch::Tensor& tensor) { allreduce(tensor, MPI_SUM, "allreduce"); }

void MpiCommunicator::allreduce_max(torch::Tensor& tensor) { allreduce(tensor, MPI_MAX, "allreduce_max"); }

torch::Tensor MpiCommunicator::allgather_rows(const torch::Tensor& local_in, std::vector<std::int64_t>* counts) {
  const auto local = local_in.contiguous();
  const std::int64_t rows = local.dim() == 0 ? 1 : local.size(0);
  std::vector<std::int64_t> all_rows(static_cast<std::size_t>(size_));
  OpTimer timer(stats_, "allgather", local.nbytes() * static_cast<std::uint64_t>(size_ - 1));
  MPI_Allgather(&rows, 1, MPI_INT64_T, all_rows.data(), 1, MPI_INT64_T, MPI_COMM_WORLD);
  const std::int64_t per_row = row_elements(local);
  std::vector<int> recv_counts(all_rows.size()), displs(all_rows.size());
  std::int64_t total_rows = 0;
  for (std::size_t r = 0; r < all_rows.size(); ++r) {
    recv_counts[r] = checked_int(all_rows[r] * per_row, "allgather");
    displs[r] = checked_int(total_rows * per_row, "allgather");
    total_rows += all_rows[r];
  }
  auto shape = trailing_shape(local);
  shape.insert(shape.begin(), total_rows);
  auto out = torch::empty(shape, local.options());
  MPI_Allgatherv(local.data_ptr(), checked_int(local.numel(), "allgather"), mpi_type(local), out.data_ptr(),
                 recv_counts.data(), displs.data(), mpi_type(local), MPI_COMM_WORLD);
  if (counts) *counts = std::move(all_rows);
  return out;
}

std::vector<torch::Tensor> MpiCommunicator::alltoall_rows(const std::vector<torch::Tensor>& send_in) {
  if (static_cast<int>(send_in.size()) != size_) throw Error("alltoall: need one tensor per rank");
  std::vector<torch::Tensor> send;
  for (const auto& t : send_in) send.push_back(t.contiguous());
  const auto options = send[0].options();
  const auto trailing = trailing_shape(send[0]);
  const std::int64_t per_row = row_elements(send[0]);
  std::vector<std::int64_t> send_rows(send.size()), recv_rows(send.size());
  std::uint64_t bytes = 0;
  for (std::size_t r = 0; r < send.size(); ++r) {
    if (send[r].scalar_type() != send[0].scalar_type() || trailing_shape(send[r]) != trailing) {
      throw Error("alltoall: tensors for different ranks differ in dtype or trailing shape");
    }
    send_rows[r] = send[r].size(0);
    if (static_cast<int>(r) != rank_) bytes += send[r].nbytes();
  }
  OpTimer timer(stats_, "alltoall", bytes);
  MPI_Alltoall(send_rows.data(), 1, MPI_INT64_T, recv_rows.data(), 1, MPI_INT64_T, MPI_COMM_WORLD);
  const auto packed = torch::cat(send);
  std::vector<int> send_counts(send.size()), send_displs(send.size()), recv_counts(send.size()),
      recv_displs(send.size());
  std::int64_t send_off = 0, recv_off = 0;
  for (std::size_t r = 0; r < send.size(); ++r) {
    send_counts[r] = checked_int(send_rows[r] * per_row, "alltoall");
    send_displs[r] = checked_int(send_off * per_row, "alltoall");
    recv_counts[r] = checked_int(recv_rows[r] * per_row, "alltoall");
    recv_displs[r] = checked_int(recv_off * per_row, "alltoall");
    send_off += send_rows[r];
    recv_off += recv_rows[r];
  }
  auto shape = trailing;
  shape.insert(shape.begin(), recv_off);
  auto recv = torch::empty(shape, options);
  const MPI_Datatype type = mpi_type(packed);
  MPI_Alltoallv(packed.data_ptr(), send_counts.data(), send_displs.data(), type, recv.data_ptr(), recv_counts.data(),
                recv_displs.data(), type, MPI_COMM_WORLD);
  std::vector<torch::Tensor> out;
  std::int64_t offset = 0;
  for (auto n : recv_rows) {
    out.push_back(recv.narrow(0, offset, n));
    offset += n;
  }
  return out;
}

void MpiCommunicator::broadcast(torch::Tensor& tensor, int root) {
  if (!tensor.is_contiguous()) throw Error("broadcast: tensor must be contiguous");
  OpTimer timer(stats_, "broadcast", rank_ == root ? tensor.nbytes() * static_cast<std::uint64_t>(size_ - 1) : 0);
  MPI_Bcast(tensor.data_ptr(), checked_int(tensor.numel(), "broadcast"), mpi_type(tensor), root, MPI_COMM_WORLD);
}

void MpiCommunicator::barrier() {
  OpTimer timer(stats_, "barrier", 0);
  MPI_Barrier(MPI_COMM_WORLD);
}

void MpiCommunicator::abort(int code) const {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();
}

}  // namespace moecollab
