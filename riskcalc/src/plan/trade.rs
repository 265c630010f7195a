//! A trade compiled for the kernel: numbers only, no names, no validation left.

/// Per-asset dynamics of one revaluation state, precomputed per time step.
#[derive(Debug, Clone, PartialEq)]
pub enum Dynamics {
    /// x += drift_dt + vol_sqrt_dt · w
    Gbm { drift_dt: f64, vol_sqrt_dt: f64 },
    /// Heston, full-truncation Euler on (x = ln S, v):
    /// x += carry_dt − ½ v⁺ dt + √(v⁺ dt) w;  v += κ dt (θ − v⁺) + ξ √(v⁺ dt) (ρ w + ρ̄ z).
    Heston { v0: f64, carry_dt: f64, dt: f64, kappa_dt: f64, theta: f64, xi: f64, rho: f64, rho_bar: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssetState {
    pub log_spot: f64,
    pub spot: f64,
    pub dynamics: Dynamics,
}

/// One revaluation of the trade: the base market or one bumped market. All
/// states share the same random numbers (common random numbers).
#[derive(Debug, Clone, PartialEq)]
pub struct StateParams {
    pub assets: Vec<AssetState>,
    /// e^{-rT}: discount of a payoff at maturity.
    pub discount: f64,
    /// e^{-r t_k} for observation k = 1..=n (index k-1); used by early exercise.
    pub obs_discount: Vec<f64>,
}

/// What the trade pays, in terms of the simulated log-prices.
#[derive(Debug, Clone, PartialEq)]
pub enum Payoff {
    /// A holding of the underlying: worth its spot, nothing to simulate.
    Stock,
    Vanilla {
        call: bool,
        strike: f64,
    },
    Digital {
        call: bool,
        strike: f64,
        cash: f64,
    },
    /// Average over the observation dates.
    Asian {
        call: bool,
        strike: f64,
        geometric: bool,
    },
    /// Knock-in/out on the observation dates, vanilla payoff at maturity.
    Barrier {
        call: bool,
        strike: f64,
        up: bool,
        knock_in: bool,
        log_barrier: f64,
    },
    Basket {
        call: bool,
        strike: f64,
        weights: Vec<f64>,
        geometric: bool,
    },
    /// Early exercise on the observation dates with Longstaff–Schwartz
    /// continuation coefficients per date (all but the last), in units of the
    /// strike, for the basis (1, S/K, (S/K)²).
    Exercise {
        call: bool,
        strike: f64,
        coeffs: Vec<[f64; 3]>,
    },
    /// Calibration only: record S at each observation date.
    Record,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TradePlan {
    /// Fourth Philox counter word for this trade's paths.
    pub stream: u32,
    /// Lower-triangular Cholesky factor of the trade's assets' correlation, row-major n×n.
    pub chol: Vec<f64>,
    pub n_assets: usize,
    /// Time steps to maturity.
    pub steps: u32,
    /// Observation (fixing, monitoring, exercise) every `obs_every` steps.
    pub obs_every: u32,
    pub payoff: Payoff,
    pub states: Vec<StateParams>,
}

impl TradePlan {
    pub fn n_states(&self) -> usize {
        self.states.len()
    }

    pub fn n_observations(&self) -> u32 {
        self.steps / self.obs_every
    }

    /// Number of Heston assets (each draws one extra normal per step).
    pub fn n_heston(&self) -> usize {
        self.states
            .first()
            .map_or(0, |st| st.assets.iter().filter(|a| matches!(a.dynamics, Dynamics::Heston { .. })).count())
    }

    /// Normals drawn per time step.
    pub fn dims_per_step(&self) -> u32 {
        (self.n_assets + self.n_heston()) as u32
    }
}
