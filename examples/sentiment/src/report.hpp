// report.hpp — what a person sees while training: a progress bar on a terminal (plain
// periodic lines otherwise), the epoch table, and the metrics CSV and SVG plot written next to
// the model.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "train.hpp"

namespace sentiment {

inline std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

/// Progress within an epoch: examples/s, running loss, ETA. On a TTY one line redrawn in place
/// (at most 10 times a second); otherwise a plain line every 5 seconds.
class Progress {
 public:
  explicit Progress(int epochs, bool quiet = false)
      : epochs_(epochs), quiet_(quiet), tty_(isatty(fileno(stderr)) != 0) {}

  void step(int epoch, std::int64_t done, std::int64_t total, double loss) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    if (epoch != epoch_) {
      epoch_ = epoch;
      start_ = last_ = now;
    }
    const double since = std::chrono::duration<double>(now - last_).count();
    if (done < total && since < (tty_ ? 0.1 : 5.0)) return;
    last_ = now;
    const double el = std::max(1e-9, std::chrono::duration<double>(now - start_).count());
    const double rate = static_cast<double>(done) / el;
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
    std::string line = "epoch " + std::to_string(epoch) + "/" + std::to_string(epochs_) + " ";
    if (tty_) {
      const int width = 24;
      const int fill = static_cast<int>(width * static_cast<double>(done) / static_cast<double>(total));
      line += "[" + std::string(static_cast<std::size_t>(fill), '#') +
              std::string(static_cast<std::size_t>(width - fill), '.') + "] ";
    }
    line += std::to_string(done) + "/" + std::to_string(total) + "  " + fmt("%.0f", rate) +
            " ex/s  loss " + fmt("%.4f", loss) + "  ETA " + fmt("%.0f", eta) + "s";
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      if (done >= total) std::fprintf(stderr, "\r\033[K");
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  }

 private:
  int epochs_;
  bool quiet_, tty_;
  int epoch_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

inline void print_epoch_header(std::FILE* out) {
  std::fprintf(out, "%5s  %10s  %8s  %8s  %7s\n", "epoch", "train loss", "dev acc", "dev F1", "time");
}
inline void print_epoch_row(std::FILE* out, const EpochRecord& r, bool best) {
  std::fprintf(out, "%5d  %10.4f  %7.2f%%  %7.2f%%  %6.1fs%s\n", r.epoch, r.train_loss,
               100 * r.dev_accuracy, 100 * r.dev_macro_f1, r.seconds, best ? "  *best" : "");
  std::fflush(out);
}

inline void print_metrics(std::FILE* out, const Metrics& m, const std::vector<std::string>& labels) {
  std::fprintf(out, "accuracy %.2f%%  macro-F1 %.2f%%  (n = %lld)\n", 100 * m.accuracy,
               100 * m.macro_f1, static_cast<long long>(m.n));
  std::fprintf(out, "%-10s %9s %9s %9s\n", "class", "precision", "recall", "F1");
  for (std::size_t c = 0; c < labels.size(); ++c) {
    std::fprintf(out, "%-10s %8.2f%% %8.2f%% %8.2f%%\n", labels[c].c_str(), 100 * m.precision[c],
                 100 * m.recall[c], 100 * m.f1[c]);
  }
  std::fprintf(out, "confusion (rows: true, columns: predicted)\n%-10s", "");
  for (auto& l : labels) std::fprintf(out, " %9s", l.c_str());
  std::fprintf(out, "\n");
  for (std::size_t r = 0; r < labels.size(); ++r) {
    std::fprintf(out, "%-10s", labels[r].c_str());
    for (std::size_t c = 0; c < labels.size(); ++c) {
      std::fprintf(out, " %9lld", static_cast<long long>(m.confusion[r][c]));
    }
    std::fprintf(out, "\n");
  }
}

inline std::string history_csv(const std::vector<EpochRecord>& h) {
  std::string s = "epoch,train_loss,dev_accuracy,dev_macro_f1,seconds\n";
  for (auto& r : h) {
    s += std::to_string(r.epoch) + "," + fmt("%.6f", r.train_loss) + "," + fmt("%.6f", r.dev_accuracy) +
         "," + fmt("%.6f", r.dev_macro_f1) + "," + fmt("%.3f", r.seconds) + "\n";
  }
  return s;
}

/// Two panels side by side: training loss and dev accuracy per epoch.
inline std::string history_svg(const std::vector<EpochRecord>& h, const std::string& title) {
  const double W = 360, H = 240, L = 50, T = 30, R = 15, B = 35;
  auto panel = [&](double x0, const std::string& name, auto value, const char* colour, bool percent) {
    double lo = 1e300, hi = -1e300;
    for (auto& r : h) {
      lo = std::min(lo, value(r));
      hi = std::max(hi, value(r));
    }
    if (hi - lo < 1e-9) {
      hi += 0.5;
      lo -= 0.5;
    }
    const double pad = 0.05 * (hi - lo);
    lo -= pad;
    hi += pad;
    const double n = static_cast<double>(std::max<std::size_t>(h.size(), 2) - 1);
    auto px = [&](double i) { return x0 + L + (W - L - R) * i / n; };
    auto py = [&](double v) { return T + (H - T - B) * (1 - (v - lo) / (hi - lo)); };
    std::ostringstream s;
    s << "<g font-family='sans-serif' font-size='11'>\n";
    s << "<text x='" << x0 + W / 2 << "' y='18' text-anchor='middle' font-size='13'>" << name << "</text>\n";
    s << "<rect x='" << x0 + L << "' y='" << T << "' width='" << W - L - R << "' height='" << H - T - B
      << "' fill='none' stroke='#999'/>\n";
    for (int k = 0; k <= 4; ++k) {
      const double v = lo + (hi - lo) * k / 4;
      s << "<text x='" << x0 + L - 4 << "' y='" << py(v) + 4 << "' text-anchor='end'>"
        << (percent ? fmt("%.1f%%", 100 * v) : fmt("%.3f", v)) << "</text>\n";
    }
    for (std::size_t i = 0; i < h.size(); ++i) {
      s << "<text x='" << px(static_cast<double>(i)) << "' y='" << H - B + 14
        << "' text-anchor='middle'>" << h[i].epoch << "</text>\n";
    }
    s << "<text x='" << x0 + L + (W - L - R) / 2 << "' y='" << H - 6 << "' text-anchor='middle'>epoch</text>\n";
    s << "<polyline fill='none' stroke='" << colour << "' stroke-width='2' points='";
    for (std::size_t i = 0; i < h.size(); ++i) s << px(static_cast<double>(i)) << "," << py(value(h[i])) << " ";
    s << "'/>\n";
    for (std::size_t i = 0; i < h.size(); ++i) {
      s << "<circle cx='" << px(static_cast<double>(i)) << "' cy='" << py(value(h[i])) << "' r='3' fill='" << colour << "'/>\n";
    }
    s << "</g>\n";
    return s.str();
  };
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << 2 * W << "' height='" << H + 20 << "'>\n";
  svg << "<rect width='100%' height='100%' fill='white'/>\n";
  svg << panel(0, "train loss", [](const EpochRecord& r) { return r.train_loss; }, "#d62728", false);
  svg << panel(W, "dev accuracy", [](const EpochRecord& r) { return r.dev_accuracy; }, "#1f77b4", true);
  svg << "<text x='" << W << "' y='" << H + 14 << "' text-anchor='middle' font-family='sans-serif' font-size='11' fill='#555'>"
      << title << "</text>\n</svg>\n";
  return svg.str();
}

}  // namespace sentiment
