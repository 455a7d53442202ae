// SPDX-License-Identifier: MIT
// Options maths (docs/options.md): payoff, defined risk and its exact maximum loss, a conservative
// scenario margin, the settlement price and the volatility-scaled rate. 1e18 fixed point, every
// rounding against the trader. relayer/margin/options.ts is the TypeScript twin; both are checked
// against test/vectors/options.json.
pragma solidity ^0.8.22;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

library OptionsMath {
    /// strike USD per unit 1e18, size asset units 1e18; both > 0.
    struct Leg {
        bool isCall;
        bool isLong;
        uint256 strike;
        uint256 size;
    }

    /// The scenario grid: prices s0·(1 ± i·shockBps/(1e4·steps)), i = 0..steps; σ·(1 ± volShockBps/1e4).
    struct ScenarioParams {
        uint256 shockBps;
        uint256 volShockBps;
        uint256 steps;
    }

    uint256 internal constant WAD = 1e18;
    uint256 internal constant YEAR = 31_536_000;
    uint256 internal constant MAX_LEGS = 8;
    uint256 internal constant BPS = 10_000;
    /// 1/√(2π) = 0.398942280401432677939946…, in 1e18 rounded UP (the bound is never below the exact one).
    uint256 internal constant INV_SQRT_2PI = 398_942_280_401_432_678;

    error NotDefinedRisk();
    error TooManyLegs(uint256 n); // more than 8
    error NoLegs();
    error BadLeg(uint256 index); // strike or size 0
    error BadRange(uint256 low, uint256 high); // low > high
    error BadRateBounds(uint256 mmrMin, uint256 mmrMax); // mmrMin > mmrMax

    /// Reverts unless there are 1 to 8 legs, each with a strike and a size above 0.
    function check(Leg[] memory legs) internal pure {
        uint256 n = legs.length;
        if (n == 0) revert NoLegs();
        if (n > MAX_LEGS) revert TooManyLegs(n);
        for (uint256 i = 0; i < n; i++) {
            if (legs[i].strike == 0 || legs[i].size == 0) revert BadLeg(i);
        }
    }

    /// The strategy's payoff to the trader at expiry price s (USD 1e18): Σ sign·size·intrinsic(s),
    /// exact, rounded down once (longs' gains down, shorts' liabilities up; see _value).
    function payoff(Leg[] memory legs, uint256 s) internal pure returns (int256) {
        check(legs);
        return _payoff(legs, s);
    }

    /// Net call size and net put size both ≥ 0: every short leg is covered by a long of its kind.
    function isDefinedRisk(Leg[] memory legs) internal pure returns (bool) {
        check(legs);
        return _isDefinedRisk(legs);
    }

    /// max(0, max over B in {0} ∪ strikes of premium − payoff(B)): exact for a defined-risk strategy,
    /// whose payoff is piecewise linear with kinks at the strikes and non-decreasing above the last.
    function maxLoss(Leg[] memory legs, int256 premium) internal pure returns (uint256) {
        check(legs);
        if (!_isDefinedRisk(legs)) revert NotDefinedRisk();
        int256 worst = premium - _payoff(legs, 0);
        for (uint256 i = 0; i < legs.length; i++) {
            int256 loss = premium - _payoff(legs, legs[i].strike);
            if (loss > worst) worst = loss;
        }
        return worst > 0 ? uint256(worst) : 0;
    }

    /// s·σ·√(t/YEAR)/√(2π), rounded UP: the most time value an option on s can have (at the money,
    /// no interest). √(t/YEAR) is ⌈√(t·1e36/YEAR)⌉ in 1e18 and 1/√(2π) is INV_SQRT_2PI, both rounded
    /// up, then one rounding up of their product with s·σ.
    function timeValueBound(uint256 s, uint256 sigma, uint256 t) internal pure returns (uint256) {
        uint256 rootT = Math.sqrt(Math.mulDiv(t, WAD * WAD, YEAR, Math.Rounding.Ceil), Math.Rounding.Ceil);
        return Math.mulDiv(s * sigma, rootT * INV_SQRT_2PI, WAD * WAD * WAD, Math.Rounding.Ceil);
    }

    /// Conservative value to the trader at s with volatility σ and t seconds to expiry: longs at
    /// intrinsic, shorts at intrinsic + timeValueBound(s, σ, t), the net rounded down once.
    /// Equals payoff when t == 0.
    function value(Leg[] memory legs, uint256 s, uint256 sigma, uint256 t) internal pure returns (int256) {
        check(legs);
        return _value(legs, s, timeValueBound(s, sigma, t));
    }

    /// max(0, max over the grid of premium − value): prices s0·(1 + i·shock/steps) for i = −steps..steps
    /// (clamped at 0; the offset from s0 rounded toward s0), volatilities σ·(1 − volShock) (down,
    /// at least 0) and σ·(1 + volShock) (up). value never rises with σ, so the loss at σ·(1 + volShock)
    /// is never below the loss at σ·(1 − volShock) and only the former is evaluated. steps == 0 is s0 alone.
    function scenarioLoss(
        Leg[] memory legs,
        int256 premium,
        uint256 s0,
        uint256 sigma,
        uint256 t,
        ScenarioParams memory p
    ) internal pure returns (uint256) {
        check(legs);
        uint256 sigmaUp = Math.mulDiv(sigma, BPS + p.volShockBps, BPS, Math.Rounding.Ceil);
        int256 worst = 0;
        for (uint256 i = 0; i <= p.steps; i++) {
            uint256 offset = p.steps == 0 ? 0 : Math.mulDiv(s0, i * p.shockBps, BPS * p.steps);
            worst = _worse(worst, premium - _scenarioValue(legs, s0 + offset, sigmaUp, t));
            if (i > 0) worst = _worse(worst, premium - _scenarioValue(legs, offset < s0 ? s0 - offset : 0, sigmaUp, t));
        }
        return uint256(worst);
    }

    /// The settlement price worst for the trader within [low, high]: the argmin of payoff over low,
    /// high and the strikes strictly between them, the lowest such price on ties.
    function worstPrice(Leg[] memory legs, uint256 low, uint256 high) internal pure returns (uint256 price) {
        check(legs);
        if (low > high) revert BadRange(low, high);
        price = low;
        int256 least = _payoff(legs, low);
        for (uint256 i = 0; i < legs.length; i++) {
            uint256 k = legs[i].strike;
            if (k <= low || k >= high) continue;
            int256 at = _payoff(legs, k);
            if (at < least || (at == least && k < price)) (least, price) = (at, k);
        }
        int256 atHigh = _payoff(legs, high);
        if (atHigh < least) price = high;
    }

    /// clamp(⌈mmr·σ/σ_ref⌉, mmrMin, mmrMax); mmr unchanged when σ_ref == 0.
    function scaledRate(uint256 mmr, uint256 sigma, uint256 sigmaRef, uint256 mmrMin, uint256 mmrMax)
        internal
        pure
        returns (uint256)
    {
        if (sigmaRef == 0) return mmr;
        if (mmrMin > mmrMax) revert BadRateBounds(mmrMin, mmrMax);
        uint256 rate = Math.mulDiv(mmr, sigma, sigmaRef, Math.Rounding.Ceil);
        if (rate < mmrMin) return mmrMin;
        if (rate > mmrMax) return mmrMax;
        return rate;
    }

    /// For display: Σ sign·size over the legs in the money at s (a call when s > K, a put when s < K,
    /// a put's delta negative). int256 1e18.
    function intrinsicDelta(Leg[] memory legs, uint256 s) internal pure returns (int256 delta) {
        check(legs);
        for (uint256 i = 0; i < legs.length; i++) {
            Leg memory leg = legs[i];
            bool inMoney = leg.isCall ? s > leg.strike : s < leg.strike;
            if (!inMoney) continue;
            int256 size = SafeCast.toInt256(leg.size);
            delta += leg.isCall == leg.isLong ? size : -size;
        }
    }

    function _isDefinedRisk(Leg[] memory legs) private pure returns (bool) {
        int256 calls = 0;
        int256 puts = 0;
        for (uint256 i = 0; i < legs.length; i++) {
            int256 size = SafeCast.toInt256(legs[i].size);
            int256 signed = legs[i].isLong ? size : -size;
            if (legs[i].isCall) calls += signed;
            else puts += signed;
        }
        return calls >= 0 && puts >= 0;
    }

    function _scenarioValue(Leg[] memory legs, uint256 s, uint256 sigma, uint256 t) private pure returns (int256) {
        return _value(legs, s, timeValueBound(s, sigma, t));
    }

    function _worse(int256 a, int256 b) private pure returns (int256) {
        return b > a ? b : a;
    }

    function _payoff(Leg[] memory legs, uint256 s) private pure returns (int256) {
        return _value(legs, s, 0);
    }

    /// Σ long size·intrinsic − Σ short size·(intrinsic + extra), exact in 1e36, then rounded DOWN once
    /// (toward −∞): a gain rounds down, a liability up. One rounding of the net, not one per leg, so
    /// the computed payoff is the floor of a piecewise-linear function and its minimum over any range
    /// is at a breakpoint (per-leg rounding lets a covered spread's flat payoff dip 1 wei between them).
    function _value(Leg[] memory legs, uint256 s, uint256 extra) private pure returns (int256) {
        int256 total = 0;
        for (uint256 i = 0; i < legs.length; i++) {
            Leg memory leg = legs[i];
            if (leg.isLong) total += SafeCast.toInt256(leg.size * _intrinsic(leg, s));
            else total -= SafeCast.toInt256(leg.size * (_intrinsic(leg, s) + extra));
        }
        int256 quotient = total / int256(WAD);
        return total % int256(WAD) < 0 ? quotient - 1 : quotient;
    }

    function _intrinsic(Leg memory leg, uint256 s) private pure returns (uint256) {
        if (leg.isCall) return s > leg.strike ? s - leg.strike : 0;
        return leg.strike > s ? leg.strike - s : 0;
    }
}
