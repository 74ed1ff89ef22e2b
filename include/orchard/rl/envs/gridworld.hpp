#pragma once
// A MiniGrid-style gridworld (Chevalier-Boisvert et al.'s "Empty" rooms) with categorical
// observations. The room is size x size cells with a wall border and the goal in the bottom-right
// inner corner; the agent starts at (1, 1) facing right, or (random_start) on a uniformly drawn
// free cell with a uniformly drawn direction. Actions: 0 = turn left, 1 = turn right,
// 2 = move forward. Reaching the goal ends the episode with reward 1 - 0.9 * steps / max_steps;
// truncated after max_steps = 4 * size^2 steps (MiniGrid's defaults).
//
// Observation: MiniGrid's egocentric view_size x view_size window, each cell encoded as
// (object, colour, state) integer codes with MiniGrid's tables (unseen 0, empty 1, wall 2,
// goal 8; grey 5, green 1), cells hidden behind walls marked unseen as in MiniGrid's
// process_vis, flattened as ((vx * view_size + vy) * 3 + channel), followed by the agent's
// direction (0 right, 1 down, 2 left, 3 up). Every column is a categorical code.
#include <vector>

#include "../env.hpp"

namespace orchard::rl {

struct GridWorldParams {
  int size = 6;              ///< room side including the walls, >= 3
  int view_size = 7;         ///< odd, >= 3
  bool random_start = true;  ///< MiniGrid-Empty-Random-<size> when true, Empty-<size> otherwise
};

class GridWorld : public Env {
 public:
  enum Object : int { unseen = 0, empty = 1, wall = 2, goal = 8 };
  enum Colour : int { green = 1, grey = 5 };

  using Params = GridWorldParams;

  GridWorld() : GridWorld(Params{}) {}
  explicit GridWorld(Params p) : p_(p) {
    require(p.size >= 3, "size", p.size, "must be >= 3");
    require(p.view_size >= 3 && p.view_size % 2 == 1, "view_size", p.view_size,
            "must be odd and >= 3");
  }

  std::string name() const override { return "GridWorld-" + std::to_string(p_.size); }
  int observation_dim() const override { return p_.view_size * p_.view_size * 3 + 1; }
  Space action_space() const override { return Space::discrete(3); }
  int max_episode_steps() const override { return 4 * p_.size * p_.size; }
  std::vector<int> categorical_features() const override {
    std::vector<int> c(static_cast<std::size_t>(observation_dim()));
    for (int i = 0; i < observation_dim(); ++i) c[static_cast<std::size_t>(i)] = i;
    return c;
  }

  int agent_x() const { return ax_; }
  int agent_y() const { return ay_; }
  int agent_dir() const { return dir_; }
  /// Places the agent (for tests); the cell must be free.
  void set_agent(int x, int y, int dir) {
    require(cell(x, y) != wall, "agent position", std::to_string(x) + "," + std::to_string(y),
            "must be a free cell");
    require(dir >= 0 && dir < 4, "dir", dir, "must be in [0, 4)");
    ax_ = x;
    ay_ = y;
    dir_ = dir;
  }
  /// Object code of world cell (x, y): wall outside or on the border, goal, or empty.
  int cell(int x, int y) const {
    if (x <= 0 || y <= 0 || x >= p_.size - 1 || y >= p_.size - 1) return wall;
    if (x == p_.size - 2 && y == p_.size - 2) return goal;
    return empty;
  }
  void observe(std::span<double> obs) const { write(obs); }

 protected:
  void do_reset(std::span<double> obs) override {
    if (p_.random_start) {
      // A uniformly drawn free, non-goal cell, then a uniformly drawn direction.
      const int inner = p_.size - 2;
      const int cells = inner * inner - 1;
      const int k = static_cast<int>(rng_.uniform_int(static_cast<std::uint64_t>(cells)));
      ax_ = 1 + k % inner;
      ay_ = 1 + k / inner;
      dir_ = static_cast<int>(rng_.uniform_int(4));
    } else {
      ax_ = 1;
      ay_ = 1;
      dir_ = 0;
    }
    write(obs);
  }
  StepResult do_step(std::span<const double> action, std::span<double> obs) override {
    const int a = static_cast<int>(action[0]);
    StepResult r;
    if (a == 0) {
      dir_ = (dir_ + 3) % 4;
    } else if (a == 1) {
      dir_ = (dir_ + 1) % 4;
    } else {
      const int fx = ax_ + dx(dir_), fy = ay_ + dy(dir_);
      const int c = cell(fx, fy);
      if (c != wall) {
        ax_ = fx;
        ay_ = fy;
      }
      if (c == goal) {
        r.terminated = true;
        const double steps = elapsed_steps() + 1;
        r.reward = 1.0 - 0.9 * steps / max_episode_steps();
      }
    }
    write(obs);
    return r;
  }

 private:
  static int dx(int d) { return d == 0 ? 1 : (d == 2 ? -1 : 0); }
  static int dy(int d) { return d == 1 ? 1 : (d == 3 ? -1 : 0); }

  void write(std::span<double> obs) const {
    const int v = p_.view_size, hs = v / 2;
    const int fx = dx(dir_), fy = dy(dir_), rx = -fy, ry = fx;
    // Object codes in view coordinates (agent at (hs, v - 1) looking towards vy = 0).
    std::vector<int> obj(static_cast<std::size_t>(v * v));
    auto at = [&](int vx, int vy) -> int& { return obj[static_cast<std::size_t>(vx * v + vy)]; };
    for (int vx = 0; vx < v; ++vx) {
      for (int vy = 0; vy < v; ++vy) {
        const int wx = ax_ + fx * (v - 1 - vy) + rx * (vx - hs);
        const int wy = ay_ + fy * (v - 1 - vy) + ry * (vx - hs);
        at(vx, vy) = cell(wx, wy);
      }
    }
    at(hs, v - 1) = empty;  // the agent's own cell (it carries nothing)
    // MiniGrid's process_vis: visibility spreads from the agent through cells that are not walls.
    std::vector<char> mask(static_cast<std::size_t>(v * v), 0);
    auto m = [&](int vx, int vy) -> char& { return mask[static_cast<std::size_t>(vx * v + vy)]; };
    m(hs, v - 1) = 1;
    for (int j = v - 1; j >= 0; --j) {
      for (int i = 0; i < v - 1; ++i) {
        if (!m(i, j) || at(i, j) == wall) continue;
        m(i + 1, j) = 1;
        if (j > 0) {
          m(i + 1, j - 1) = 1;
          m(i, j - 1) = 1;
        }
      }
      for (int i = v - 1; i >= 1; --i) {
        if (!m(i, j) || at(i, j) == wall) continue;
        m(i - 1, j) = 1;
        if (j > 0) {
          m(i - 1, j - 1) = 1;
          m(i, j - 1) = 1;
        }
      }
    }
    for (int vx = 0; vx < v; ++vx) {
      for (int vy = 0; vy < v; ++vy) {
        double* c = &obs[static_cast<std::size_t>((vx * v + vy) * 3)];
        const int o = m(vx, vy) ? at(vx, vy) : unseen;
        c[0] = o;
        c[1] = o == wall ? grey : (o == goal ? green : 0);
        c[2] = 0;
      }
    }
    obs[static_cast<std::size_t>(v * v * 3)] = dir_;
  }

  Params p_;
  int ax_ = 1, ay_ = 1, dir_ = 0;
};

}  // namespace orchard::rl
