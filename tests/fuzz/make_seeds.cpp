// Writes the seed corpora of tests/fuzz/corpus/<target>/ (small valid inputs made by Orchard
// itself, plus hand-written minimal XGBoost / LightGBM / pyss3 models). Not part of the build;
// regenerate with:
//   g++ -std=c++20 -O1 -fopenmp -Iinclude -isystem /usr/include/eigen3 tests/fuzz/make_seeds.cpp \
//       -o /tmp/make_seeds -lz -lxxhash && /tmp/make_seeds tests/fuzz/corpus
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <orchard/core/io.hpp>
#include <orchard/fhash/cache.hpp>
#include <orchard/gbdt.hpp>
#include <orchard/gbnn.hpp>
#include <orchard/gbrl.hpp>
#include <orchard/ss3.hpp>

namespace fs = std::filesystem;
using RowM = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

static fs::path root;

static void put(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(root / target);
  std::ofstream(root / target / name, std::ios::binary) << bytes;
}
static std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
static std::string sel(unsigned char c, const std::string& s) { return std::string(1, static_cast<char>(c)) + s; }

int main(int argc, char** argv) {
  root = argc > 1 ? argv[1] : "tests/fuzz/corpus";
  const std::string tmp = (fs::temp_directory_path() / "orchard_seed").string();

  // ---- core readers ----
  put("csv", "plain", sel(0, "1,2,3\n4.5,-1e3,NA\n"));
  put("csv", "header_label", sel(1 | 4, "y,a,b\n1,0.5,\"2.5\"\n0,,7\r\n"));
  put("csv", "header_name", sel(1 | 12, "a,y,\"b,c\"\n1,2,3\n\n4,nan,6\n"));
  put("csv", "tsv_skip", sel(2 | 16, "# comment\n1\t2\n3\t?\n"));
  put("libsvm", "one_based", sel(0, "1 1:0.5 3:2 # c\n0 qid:1 2:1\n-1 4:1e-3\n"));
  put("libsvm", "zero_based", sel(1 | 4 | 8 * 5, "0 0:1 4:2\r\n\n# only a comment\n1 2:-3\n"));
  {
    orchard::io::RowMatrix<double> m(2, 3);
    m << 1, 2, 3, 4.5, -0.0, 1e300;
    orchard::io::write_npy(tmp, m);
    put("npy", "f8_2x3", slurp(tmp));
    orchard::io::RowMatrix<float> f(3, 1);
    f << 1.5f, -2.f, 0.25f;
    orchard::io::write_npy(tmp, f);
    put("npy", "f4_3x1", slurp(tmp));
    orchard::io::RowMatrix<std::int32_t> i(1, 4);
    i << 1, -2, 3, 2147483647;
    orchard::io::write_npy(tmp, i);
    put("npy", "i4_1x4", slurp(tmp));
    orchard::io::RowMatrix<std::uint8_t> u(2, 2);
    u << 0, 1, 254, 255;
    orchard::io::write_npy(tmp, u);
    put("npy", "u1_2x2", slurp(tmp));
    std::string h = "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 2, 1), }";
    while ((10 + h.size() + 1) % 64 != 0) h += ' ';
    h += '\n';
    std::string b = std::string("\x93NUMPY\x01\x00", 8);
    b += static_cast<char>(h.size() & 255);
    b += static_cast<char>(h.size() >> 8);
    b += h;
    for (int k = 0; k < 4; ++k) {
      const double v = 0.5 * k - 1;
      std::uint64_t bits;
      std::memcpy(&bits, &v, 8);
      for (int s = 7; s >= 0; --s) b += static_cast<char>((bits >> (8 * s)) & 255);
    }
    put("npy", "f8_big_fortran_3d", b);
  }
  {
    const std::string u8 = std::string("\0\0\x08\x03\0\0\0\x02\0\0\0\x02\0\0\0\x02", 16) +
                           std::string("\x01\x02\x03\x04\x05\x06\x07\xff", 8);
    put("idx", "u8_2x2x2", u8);
    std::string f32 = std::string("\0\0\x0d\x01\0\0\0\x02", 8) + std::string("\x3f\x80\0\0\xc0\0\0\0", 8);
    put("idx", "f32_2", f32);
    put("idx", "i16_1x3", std::string("\0\0\x0b\x02\0\0\0\x01\0\0\0\x03\x7f\xff\x80\x00\x00\x01", 18));
    put("idx", "f64_1", std::string("\0\0\x0e\x01\0\0\0\x01\x40\x09\x21\xfb\x54\x44\x2d\x18", 16));
    gzFile g = gzopen(tmp.c_str(), "wb");
    gzwrite(g, u8.data(), static_cast<unsigned>(u8.size()));
    gzclose(g);
    put("idx", "u8_gz", slurp(tmp));
  }

  // ---- gbdt ----
  RowM X(40, 3);
  Eigen::VectorXd y(40), yb(40), yc(40);
  for (int i = 0; i < 40; ++i) {
    X(i, 0) = (i % 7) - 3.0;
    X(i, 1) = i % 3 == 0 ? std::numeric_limits<double>::quiet_NaN() : 0.1 * i;
    X(i, 2) = (i * 37 % 11) * 0.5;
    y(i) = X(i, 0) * 2 + X(i, 2);
    yb(i) = X(i, 0) > 0 ? 1 : 0;
    yc(i) = i % 3;
  }
  const orchard::ConstMatrixView<double> Xv(X);
  for (const char* obj : {"regression", "binary", "multiclass"}) {
    orchard::gbdt::Params p;
    p.objective = obj;
    p.num_rounds = 2;
    p.max_depth = 2;
    p.threads = 1;
    const Eigen::VectorXd& t = std::string(obj) == "regression" ? y : (std::string(obj) == "binary" ? yb : yc);
    const auto m = orchard::gbdt::train(p, Xv, orchard::ConstVectorView<double>(t));
    put("gbdt_json", obj, m.to_json().dump());
  }
  put("xgboost", "regression", R"({"learner":{"learner_model_param":{"base_score":"5E-1","num_class":"0","num_feature":"2"},
"objective":{"name":"reg:squarederror"},"gradient_booster":{"name":"gbtree","model":{"tree_info":[0,0],
"trees":[{"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_conditions":[0.5,-1.0,1.0],
"split_indices":[1,0,0],"default_left":[1,0,0],"sum_hessian":[10,4,6],"loss_changes":[3.5,0,0]},
{"left_children":[-1],"right_children":[-1],"split_conditions":[0.25],"split_indices":[0],"default_left":[0],
"sum_hessian":[10],"loss_changes":[0],"split_type":[0]}]}}}})");
  put("xgboost", "multiclass", R"({"learner":{"learner_model_param":{"base_score":"[2E-1,3E-1]","num_class":"2","num_feature":"3"},
"objective":{"name":"multi:softprob"},"gradient_booster":{"name":"gbtree","model":{"tree_info":[0,1],
"trees":[{"left_children":[1,-1,3,-1,-1],"right_children":[2,-1,4,-1,-1],"split_conditions":[0.5,-1.0,2.0,0.1,0.2],
"split_indices":[2,0,0,0,0],"default_left":[0,0,1,0,0],"sum_hessian":[10,4,6,3,3],"loss_changes":[3.5,0,1,0,0]},
{"left_children":[-1],"right_children":[-1],"split_conditions":[0.25],"split_indices":[0],"default_left":[0],
"sum_hessian":[10],"loss_changes":[0]}]}}}})");
  put("xgboost", "binary", R"({"learner":{"learner_model_param":{"base_score":0.3,"num_class":"0","num_feature":"1"},
"objective":{"name":"binary:logistic"},"gradient_booster":{"name":"gbtree","model":{"tree_info":[0],
"trees":[{"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_conditions":[0.5,-1.0,1.0],
"split_indices":[0,0,0],"default_left":[1,0,0],"sum_hessian":[10,4,6],"loss_changes":[3.5,0,0]}]}}}})");
  put("lightgbm", "regression", "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nmax_feature_idx=2\n"
      "objective=regression\n\nTree=0\nnum_leaves=3\nnum_cat=0\nsplit_feature=0 2\nsplit_gain=5 2\n"
      "threshold=0.5 1e-35\ndecision_type=2 8\nleft_child=1 -1\nright_child=-3 -2\n"
      "leaf_value=0.1 -0.2 0.3\nleaf_count=3 4 5\ninternal_count=12 7\nis_linear=0\nshrinkage=1\n\n"
      "Tree=1\nnum_leaves=1\nleaf_value=0.5\n\nend of trees\n\nparameters:\n[learning_rate: 0.1]\n"
      "end of parameters\n");
  put("lightgbm", "binary", "tree\nnum_class=1\nnum_tree_per_iteration=1\nmax_feature_idx=0\n"
      "objective=binary sigmoid:1\n\nTree=0\nnum_leaves=2\nsplit_feature=0\nsplit_gain=1\n"
      "threshold=0\ndecision_type=0\nleft_child=-1\nright_child=-2\nleaf_value=-1 1\nleaf_count=1 1\n"
      "internal_count=2\n\nend of trees\n");
  put("lightgbm", "multiclass", "tree\nnum_class=2\nnum_tree_per_iteration=2\nmax_feature_idx=1\n"
      "objective=multiclass num_class:2\n\nTree=0\nnum_leaves=2\nsplit_feature=1\nsplit_gain=1\n"
      "threshold=0.5\ndecision_type=10\nleft_child=-1\nright_child=-2\nleaf_value=-1 1\nleaf_count=1 1\n"
      "internal_count=2\n\nTree=1\nnum_leaves=1\nleaf_value=0.2\n\nend of trees\n");

  // ---- gbrl ----
  {
    orchard::gbrl::Params p;
    p.n_outputs = 2;
    p.max_depth = 2;
    p.lr = {orchard::gbrl::LrRange{0, -1, 0.5}};
    RowM Y(40, 2);
    Y.col(0) = y;
    Y.col(1) = yb;
    RowM Xg = X;
    for (int i = 0; i < 40; ++i) if (std::isnan(Xg(i, 1))) Xg(i, 1) = 0;
    for (const char* growth : {"greedy", "oblivious"}) {
      p.growth = growth;
      orchard::gbrl::Ensemble e(p);
      e.fit(orchard::ConstMatrixView<double>(Xg), orchard::ConstMatrixView<double>(Y), 2);
      put("gbrl", growth, e.to_json().dump());
    }
  }
  // ---- gbnn ----
  {
    RowM Xn = X;
    for (int i = 0; i < 40; ++i) if (std::isnan(Xn(i, 1))) Xn(i, 1) = 0;
    for (int kind = 0; kind < 3; ++kind) {
      orchard::gbnn::Params p;
      p.task = kind == 0 ? orchard::gbnn::Task::regression : orchard::gbnn::Task::classification;
      p.steps = 2;
      p.units = 2;
      p.max_iter = 5;
      p.seed = 1;
      orchard::gbnn::Model<double> m;
      const Eigen::VectorXd& t = kind == 0 ? y : (kind == 1 ? yb : yc);
      m.fit(orchard::ConstMatrixView<double>(Xn), orchard::ConstVectorView<double>(t), p, orchard::Context(1));
      put("gbnn", "model" + std::to_string(kind), sel(0, m.to_json().dump()));
      put("gbnn", "network" + std::to_string(kind), sel(1, m.to_network().to_json().dump()));
    }
  }
  // ---- fhash ----
  {
    orchard::fhash::CacheParams p;
    p.capacity = 4;
    p.shards = 2;
    p.max_evals = 2;
    orchard::fhash::FecCache c(p);
    for (std::uint64_t h = 1; h < 7; ++h) {
      if (c.lookup(h * 977).needs_evaluation()) c.record(h * 977, 0.5 * h, {1.0 * h}, 2.0);
    }
    c.record(5, -std::numeric_limits<double>::infinity());
    put("fhash_cache", "small", c.to_json().dump());
  }
  // ---- ss3 ----
  {
    const std::vector<std::string> docs = {"the cat sat on the mat", "dogs bark at the mailman",
                                           "the market fell as investors sold shares", "a cat and a dog"};
    const std::vector<std::string> labels = {"cats", "dogs", "money", "cats"};
    for (int uni = 0; uni < 2; ++uni) {
      orchard::ss3::Params p;
      p.ngrams = 2;
      p.prune_floor = 1;
      p.tokenizer = uni ? orchard::ss3::TokenizerMode::unicode : orchard::ss3::TokenizerMode::pyss3;
      orchard::ss3::Model m(p);
      m.fit(docs, labels);
      put("ss3_model", uni ? "json_unicode" : "json_pyss3", orchard::ss3::to_json(m).dump());
      // binary_unicode / binary_pyss3 are version 1 files (counts only) written by an earlier
      // make_seeds and kept as seeds of the version 1 reader; the version 2 seeds store dense
      // counts and values, the version 3 seeds sparse counts and values.
      put("ss3_model", uni ? "binary2_unicode" : "binary2_pyss3", orchard::ss3::to_binary(m, true, 2));
      put("ss3_model", uni ? "binary3_unicode" : "binary3_pyss3", orchard::ss3::to_binary(m, true, 3));
    }
    put("ss3_model", "pyss3_ss3m",
        R"({"__a__": 0.0, "__l__": 0.5, "__p__": 1, "__s__": 0.45, "__cv_mode__": "norm_gv_xai", "__sn_mode__": "xai",)"
        R"( "__multilabel__": false, "__max_fr__": [[3, 1], [2, 1]], "__index_to_word__": {"0": "cat", "1": "dog", "2": "the"},)"
        R"( "__categories__": [["cats", {"0": [{"2": [{}, 1]}, 3], "2": [{}, 2]}], ["dogs", {"1": [{}, 2], "2": [{"1": [{}, 1]}, 1]}]]})");
    put("ss3_text", "ascii", sel(0, "The cat sat on the mat. Dogs bark! 12.5% of $40 on 2024-01-02...\n\nNew paragraph."));
    put("ss3_text", "unicode", sel(1, "Le chat s'est assis sur le tapis \xe2\x80\x94 \xc3\xa9t\xc3\xa9 \xe2\x80\x99 dog\xe2\x80\x99s bone. 30\xc2\xb0" "C"));
    put("ss3_text", "empty_ish", sel(0, " ...  !!! "));
  }
  std::error_code ec;
  fs::remove(tmp, ec);
  return 0;
}
