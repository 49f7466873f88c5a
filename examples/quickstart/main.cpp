// ember-quickstart: a tour of the tensor API on a small, real computation.
//
// It scores a handful of short reviews with a tiny hand-set bag-of-words model — the shape of
// what the sentiment example (examples/sentiment, coming with the autograd layer) learns from
// data: token counts [N,V] → logits [N,2] via broadcasting and reductions → softmax → label.
#include <ember/ember.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

int main() {
  // Vocabulary and per-word (negative, positive) weights, set by hand.
  const std::vector<std::string> vocab = {"good", "great", "clean", "bad", "dirty", "rude", "not"};
  ember::Tensor<float> w{{-1.0f, 1.0f}, {-1.5f, 1.5f}, {-0.8f, 0.8f}, {1.0f, -1.0f},
                         {1.2f, -1.2f}, {1.5f, -1.5f}, {0.4f, -0.4f}};  // [V,2]

  const std::vector<std::string> reviews = {
      "great room , clean and good", "rude staff , dirty bathroom", "not bad", "good good good"};
  // Count vocabulary words per review: x [N,V].
  auto x = ember::zeros(
      {static_cast<std::int64_t>(reviews.size()), static_cast<std::int64_t>(vocab.size())});
  for (std::size_t i = 0; i < reviews.size(); ++i) {
    std::string word;
    for (char c : reviews[i] + " ") {
      if (c != ' ') {
        word += c;
        continue;
      }
      for (std::size_t v = 0; v < vocab.size(); ++v) {
        if (word == vocab[v]) x.at(i, v) += 1.0f;
      }
      word.clear();
    }
  }

  // logits[n,c] = Σ_v x[n,v]·w[v,c]: broadcast [N,V,1]·[V,2] → [N,V,2], sum over V.
  auto logits = ember::sum(x.unsqueeze(2) * w, {1});
  auto probs = ember::softmax(logits, -1);  // [N,2], rows sum to 1
  auto label = ember::argmax(probs, 1);     // [N]

  std::cout << "counts x =\n" << x << "\n\nprobabilities =\n" << probs << "\n\n";
  for (std::size_t i = 0; i < reviews.size(); ++i) {
    const auto n = static_cast<std::int64_t>(i);
    std::printf("%-32s -> %s (p=%.3f)\n", reviews[i].c_str(),
                label.at(n) == 1 ? "positive" : "negative",
                static_cast<double>(probs.at(n, label.at(n))));
  }
  // Note "not bad": a bag of words cannot see that "not" flips "bad". Learned models with
  // negation-aware tokens (examples/sentiment) are how ember handles it.
  std::printf("\nember %s, %d thread(s)\n", EMBER_VERSION_STRING, ember::num_threads());
  return 0;
}
