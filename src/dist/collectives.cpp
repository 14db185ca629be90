#include "sdzero/dist/collectives.hpp"

#include <climits>
#include <numeric>

#include "sdzero/core/error.hpp"

namespace sdz {

static int comm_size(MPI_Comm c) {
  int n = 0;
  MPI_Comm_size(c, &n);
  return n;
}
static int comm_rank(MPI_Comm c) {
  int r = 0;
  MPI_Comm_rank(c, &r);
  return r;
}

// MPI counts and displacements are ints: one exchange moves at most 2 GiB per rank.
static int checked_int(size_t n, const char* what) {
  if (n > size_t(INT_MAX)) throw Error(std::string(what) + " exceeds 2 GiB in one collective", "dist", "use smaller batches");
  return int(n);
}

static std::vector<int> displacements(const std::vector<int>& counts) {
  std::vector<int> d(counts.size(), 0);
  size_t total = 0;
  for (size_t i = 0; i < counts.size(); ++i) d[i] = checked_int(total, "exchange"), total += size_t(counts[i]);
  checked_int(total, "exchange");
  return d;
}

std::vector<Bytes> alltoallv(MPI_Comm comm, const std::vector<Bytes>& send) {
  int n = comm_size(comm);
  if (int(send.size()) != n) throw Error("alltoallv needs one buffer per rank", "dist");
  std::vector<int> scount(static_cast<size_t>(n)), rcount(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) scount[size_t(i)] = checked_int(send[size_t(i)].size(), "alltoallv buffer");
  MPI_Alltoall(scount.data(), 1, MPI_INT, rcount.data(), 1, MPI_INT, comm);
  std::vector<int> sdisp = displacements(scount), rdisp = displacements(rcount);
  Bytes sbuf;
  sbuf.reserve(size_t(std::accumulate(scount.begin(), scount.end(), 0L)));
  for (const auto& b : send) sbuf.insert(sbuf.end(), b.begin(), b.end());
  Bytes rbuf(size_t(std::accumulate(rcount.begin(), rcount.end(), 0L)));
  MPI_Alltoallv(sbuf.data(), scount.data(), sdisp.data(), MPI_BYTE, rbuf.data(), rcount.data(), rdisp.data(),
                MPI_BYTE, comm);
  std::vector<Bytes> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    out[size_t(i)].assign(rbuf.begin() + rdisp[size_t(i)], rbuf.begin() + rdisp[size_t(i)] + rcount[size_t(i)]);
  return out;
}

std::vector<Bytes> gatherv(MPI_Comm comm, int root, const Bytes& mine) {
  int n = comm_size(comm), me = comm_rank(comm);
  int count = checked_int(mine.size(), "gatherv buffer");
  std::vector<int> counts(static_cast<size_t>(n));
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, comm);
  std::vector<int> disp;
  Bytes rbuf;
  if (me == root) {
    disp = displacements(counts);
    rbuf.resize(size_t(std::accumulate(counts.begin(), counts.end(), 0L)));
  }
  MPI_Gatherv(mine.data(), count, MPI_BYTE, rbuf.data(), counts.data(), disp.data(), MPI_BYTE, root, comm);
  std::vector<Bytes> out;
  if (me != root) return out;
  out.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    out[size_t(i)].assign(rbuf.begin() + disp[size_t(i)], rbuf.begin() + disp[size_t(i)] + counts[size_t(i)]);
  return out;
}

std::vector<std::string> gather_lines(MPI_Comm comm, int root, const std::string& lines) {
  std::vector<std::string> out;
  for (const Bytes& b : gatherv(comm, root, Bytes(lines.begin(), lines.end()))) {
    const std::string text(b.begin(), b.end());
    for (size_t at = 0; at < text.size();) {
      size_t nl = text.find('\n', at);
      if (nl == std::string::npos) nl = text.size();
      out.push_back(text.substr(at, nl - at));
      at = nl + 1;
    }
  }
  return out;
}

Bytes scatterv(MPI_Comm comm, int root, const std::vector<Bytes>& parts) {
  int n = comm_size(comm), me = comm_rank(comm);
  std::vector<int> counts(static_cast<size_t>(n)), disp;
  Bytes sbuf;
  if (me == root) {
    if (int(parts.size()) != n) throw Error("scatterv needs one buffer per rank", "dist");
    for (int i = 0; i < n; ++i) counts[size_t(i)] = checked_int(parts[size_t(i)].size(), "scatterv buffer");
    disp = displacements(counts);
    for (const auto& p : parts) sbuf.insert(sbuf.end(), p.begin(), p.end());
  }
  int mine = 0;
  MPI_Scatter(counts.data(), 1, MPI_INT, &mine, 1, MPI_INT, root, comm);
  Bytes out(static_cast<size_t>(mine));
  MPI_Scatterv(sbuf.data(), counts.data(), disp.data(), MPI_BYTE, out.data(), mine, MPI_BYTE, root, comm);
  return out;
}

void bcast(MPI_Comm comm, int root, Bytes& buf) {
  uint64_t n = buf.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm);
  if (comm_rank(comm) != root) buf.resize(static_cast<size_t>(n));
  const size_t chunk = size_t(1) << 30;  // int counts: move large buffers in 1 GiB pieces
  for (size_t off = 0; off < n; off += chunk)
    MPI_Bcast(buf.data() + off, int(std::min<uint64_t>(chunk, n - off)), MPI_BYTE, root, comm);
}

double allreduce_sum(MPI_Comm comm, double x) {
  double y = 0;
  MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, comm);
  return y;
}

int64_t allreduce_sum(MPI_Comm comm, int64_t x) {
  int64_t y = 0;
  MPI_Allreduce(&x, &y, 1, MPI_INT64_T, MPI_SUM, comm);
  return y;
}

double allreduce_max(MPI_Comm comm, double x) {
  double y = 0;
  MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_MAX, comm);
  return y;
}

bool all_true(MPI_Comm comm, bool x) {
  int v = x ? 1 : 0, r = 0;
  MPI_Allreduce(&v, &r, 1, MPI_INT, MPI_LAND, comm);
  return r != 0;
}

}  // namespace sdz
