#include "moecollab/comm/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>

#include "moecollab/util/error.h"

namespace moecollab {
namespace {

// Every CUDA and NCCL failure becomes an Error naming the call, file and line.
#define MOECOLLAB_CUDA(call)                                                                                \
  do {                                                                                                      \
    const cudaError_t err_ = (call);                                                                        \
    if (err_ != cudaSuccess) {                                                                              \
      throw Error(std::string("CUDA: ") + #call + ": " + cudaGetErrorString(err_) + " (" + __FILE__ + ":" + \
                  std::to_string(__LINE__) + ")");                                                          \
    }                                                                                                       \
  } while (0)

#define MOECOLLAB_NCCL(call)                                                                                \
  do {                                                                                                      \
    const ncclResult_t res_ = (call);                                                                       \
    if (res_ != ncclSuccess) {                                                                              \
      throw Error(std::string("NCCL: ") + #call + ": " + ncclGetErrorString(res_) + " (" + __FILE__ + ":" + \
                  std::to_string(__LINE__) + ")");                                                          \
    }                                                                                                       \
  } while (0)

ncclDataType_t nccl_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32:
      return ncclFloat32;
    case torch::kFloat64:
      return ncclFloat64;
    case torch::kInt64:
      return ncclInt64;
    case torch::kInt32:
      return ncclInt32;
    case torch::kUInt8:
      return ncclUint8;
    default:
      throw Error("NCCL communicator: unsupported dtype");
  }
}

}  // namespace

struct NcclCommunicator::State {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  void* buffers[2] = {nullptr, nullptr};  // staging for CPU tensors: send, receive
  std::size_t capacity[2] = {0, 0};

  void* buffer(int which, std::size_t bytes) {
    if (bytes > capacity[which]) {
      if (buffers[which]) MOECOLLAB_CUDA(cudaFree(buffers[which]));
      buffers[which] = nullptr;
      MOECOLLAB_CUDA(cudaMalloc(&buffers[which], bytes));
      capacity[which] = bytes;
    }
    return buffers[which];
  }
  void sync() { MOECOLLAB_CUDA(cudaStreamSynchronize(stream)); }
};

int NcclCommunicator::device_count() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

NcclCommunicator::NcclCommunicator(MpiCommunicator& mpi, int device) : mpi_(mpi), state_(std::make_unique<State>()) {
  MOECOLLAB_CUDA(cudaSetDevice(device));
  MOECOLLAB_CUDA(cudaStreamCreate(&state_->stream));
  ncclUniqueId id;
  if (mpi_.rank() == 0) MOECOLLAB_NCCL(ncclGetUniqueId(&id));
  auto id_bytes = torch::empty({static_cast<std::int64_t>(sizeof id)}, torch::kUInt8);
  std::memcpy(id_bytes.data_ptr(), &id, sizeof id);
  mpi_.broadcast(id_bytes, 0);
  std::memcpy(&id, id_bytes.data_ptr(), sizeof id);
  MOECOLLAB_NCCL(ncclCommInitRank(&state_->comm, mpi_.size(), id, mpi_.rank()));
}

NcclCommunicator::~NcclCommunicator() {
  if (state_->comm) ncclCommDestroy(state_->comm);
  for (void* b : state_->buffers) {
    if (b) cudaFree(b);
  }
  if (state_->stream) cudaStreamDestroy(state_->stream);
}

void NcclCommunicator::allreduce(torch::Tensor& tensor, bool max, const char* name) {
  if (!tensor.is_contiguous()) throw Error(std::string(name) + ": tensor must be contiguous");
  OpTimer timer(stats_, name, tensor.nbytes());
  const std::size_t bytes = tensor.nbytes();
  void* data = tensor.is_cuda() ? tensor.data_ptr() : state_->buffer(0, bytes);
  if (!tensor.is_cuda()) {
    MOECOLLAB_CUDA(cudaMemcpyAsync(data, tensor.data_ptr(), bytes, cudaMemcpyHostToDevice, state_->stream));
  }
  MOECOLLAB_NCCL(ncclAllReduce(data, data, static_cast<std::size_t>(tensor.numel()), nccl_type(tensor),
                               max ? ncclMax : ncclSum, state_->comm, state_->stream));
  if (!tensor.is_cuda()) {
    MOECOLLAB_CUDA(cudaMemcpyAsync(tensor.data_ptr(), data, bytes, cudaMemcpyDeviceToHost, state_->stream));
  }
  state_->sync();
}

void NcclCommunicator::allreduce_sum(torch::Tensor& tensor) { allreduce(tensor, false, "allreduce"); }

void NcclCommunicator::allreduce_max(torch::Tensor& tensor) { allreduce(tensor, true, "allreduce_max"); }

void NcclCommunicator::broadcast(torch::Tensor& tensor, int root) {
  if (!tensor.is_contiguous()) throw Error("broadcast: tensor must be contiguous");
  OpTimer timer(stats_, "broadcast", rank() == root ? tensor.nbytes() * static_cast<std::uint64_t>(size() - 1) : 0);
  const std::size_t bytes = tensor.nbytes();
  void* data = tensor.is_cuda() ? tensor.data_ptr() : state_->buffer(0, bytes);
  if (!tensor.is_cuda()) {
    MOECOLLAB_CUDA(cudaMemcpyAsync(data, tensor.data_ptr(), bytes, cudaMemcpyHostToDevice, state_->stream));
  }
  MOECOLLAB_NCCL(ncclBroadcast(data, data, bytes, ncclUint8, root, state_->comm, state_->stream));
  if (!tensor.is_cuda()) {
    MOECOLLAB_CUDA(cudaMemcpyAsync(tensor.data_ptr(), data, bytes, cudaMemcpyDeviceToHost, state_->stream));
  }
  state_->sync();
}

std::vector<torch::Tensor> NcclCommunicator::alltoall_rows(const std::vector<torch::Tensor>& send) {
  return exchange_rows(send, "alltoall");
}

std::vector<torch::Tensor> NcclCommunicator::exchange_rows(const std::vector<torch::Tensor>& send_in, const char* op) {
  if (static_cast<int>(send_in.size()) != size()) throw Error("alltoall: need one tensor per rank");
  std::vector<torch::Tensor> send;
  for (const auto& t : send_in) send.push_back(t.to(torch::kCPU).contiguous());
  // Row counts go over MPI: recv_rows[r] = rows rank r sends to this rank.
  std::vector<torch::Tensor> count_send;
  std::uint64_t bytes_out = 0;
  for (int r = 0; r < size(); ++r) {
    count_send.push_back(torch::tensor({send[static_cast<std::size_t>(r)].size(0)}, torch::kInt64));
    if (r != rank()) bytes_out += send[static_cast<std::size_t>(r)].nbytes();
  }
  const auto count_recv = mpi_.alltoall_rows(count_send);
  OpTimer timer(stats_, op, bytes_out);
  auto trailing = send[0].sizes().slice(1).vec();
  std::int64_t elems_per_row = 1;
  for (auto d : trailing) elems_per_row *= d;
  const std::int64_t bytes_per_row = elems_per_row * static_cast<std::int64_t>(send[0].element_size());
  const auto packed = torch::cat(send);
  std::int64_t recv_rows = 0;
  for (const auto& c : count_recv) recv_rows += c.item<std::int64_t>();
  auto* dsend = static_cast<char*>(state_->buffer(0, std::max<std::size_t>(1, packed.nbytes())));
  auto* drecv = static_cast<char*>(state_->buffer(1, std::max<std::int64_t>(1, recv_rows * bytes_per_row)));
  MOECOLLAB_CUDA(cudaMemcpyAsync(dsend, packed.data_ptr(), packed.nbytes(), cudaMemcpyHostToDevice, state_->stream));
  MOECOLLAB_NCCL(ncclGroupStart());
  std::int64_t send_off = 0, recv_off = 0;
  for (int r = 0; r < size(); ++r) {
    const std::int64_t out_bytes = send[static_cast<std::size_t>(r)].size(0) * bytes_per_row;
    const std::int64_t in_bytes = count_recv[static_cast<std::size_t>(r)].item<std::int64_t>() * bytes_per_row;
    if (out_bytes > 0)
      MOECOLLAB_NCCL(ncclSend(dsend + send_off, out_bytes, ncclUint8, r, state_->comm, state_->stream));
    if (in_bytes > 0) MOECOLLAB_NCCL(ncclRecv(drecv + recv_off, in_bytes, ncclUint8, r, state_->comm, state_->stream));
    send_off += out_bytes;
    recv_off += in_bytes;
  }
  MOECOLLAB_NCCL(ncclGroupEnd());
  auto shape = trailing;
  shape.insert(shape.begin(), recv_rows);
  auto recv = torch::empty(shape, send[0].options());
  MOECOLLAB_CUDA(cudaMemcpyAsync(recv.data_ptr(), drecv, recv.nbytes(), cudaMemcpyDeviceToHost, state_->stream));
  state_->sync();
  std::vector<torch::Tensor> out;
  std::int64_t offset = 0;
  for (const auto& c : count_recv) {
    const auto n = c.item<std::int64_t>();
    out.push_back(recv.narrow(0, offset, n));
    offset += n;
  }
  return out;
}

torch::Tensor NcclCommunicator::allgather_rows(const torch::Tensor& local, std::vector<std::int64_t>* counts) {
  // NCCL's all-gather needs equal counts; as an all-to-all of the same rows to
  // every rank it sends what MPI_Allgatherv does, and is counted as an all-gather.
  const auto parts = exchange_rows(std::vector<torch::Tensor>(static_cast<std::size_t>(size()), local), "allgather");
  if (counts) {
    counts->clear();
    for (const auto& p : parts) counts->push_back(p.size(0));
  }
  return torch::cat(parts);
}

void NcclCommunicator::barrier() { mpi_.barrier(); }

}  // namespace moecollab
