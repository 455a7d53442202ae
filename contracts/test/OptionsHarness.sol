// SPDX-License-Identifier: MIT
// Test-only: exposes the OptionsMath library so TypeScript tests can run it against
// test/vectors/options.json.
pragma solidity ^0.8.22;

import {OptionsMath} from "../libraries/OptionsMath.sol";

contract OptionsHarness {
    function check(OptionsMath.Leg[] calldata legs) external pure {
        OptionsMath.check(legs);
    }

    function payoff(OptionsMath.Leg[] calldata legs, uint256 s) external pure returns (int256) {
        return OptionsMath.payoff(legs, s);
    }

    /// payoff at many prices in one call (the vectors list several per strategy).
    function payoffs(OptionsMath.Leg[] calldata legs, uint256[] calldata prices) external pure returns (int256[] memory out) {
        OptionsMath.Leg[] memory l = legs;
        out = new int256[](prices.length);
        for (uint256 i = 0; i < prices.length; i++) out[i] = OptionsMath.payoff(l, prices[i]);
    }

    function isDefinedRisk(OptionsMath.Leg[] calldata legs) external pure returns (bool) {
        return OptionsMath.isDefinedRisk(legs);
    }

    function maxLoss(OptionsMath.Leg[] calldata legs, int256 premium) external pure returns (uint256) {
        return OptionsMath.maxLoss(legs, premium);
    }

    function timeValueBound(uint256 s, uint256 sigma, uint256 t) external pure returns (uint256) {
        return OptionsMath.timeValueBound(s, sigma, t);
    }

    function value(OptionsMath.Leg[] calldata legs, uint256 s, uint256 sigma, uint256 t) external pure returns (int256) {
        return OptionsMath.value(legs, s, sigma, t);
    }

    function scenarioLoss(
        OptionsMath.Leg[] calldata legs,
        int256 premium,
        uint256 s0,
        uint256 sigma,
        uint256 t,
        OptionsMath.ScenarioParams calldata p
    ) external pure returns (uint256) {
        return OptionsMath.scenarioLoss(legs, premium, s0, sigma, t, p);
    }

    function worstPrice(OptionsMath.Leg[] calldata legs, uint256 low, uint256 high) external pure returns (uint256) {
        return OptionsMath.worstPrice(legs, low, high);
    }

    function scaledRate(uint256 mmr, uint256 sigma, uint256 sigmaRef, uint256 mmrMin, uint256 mmrMax)
        external
        pure
        returns (uint256)
    {
        return OptionsMath.scaledRate(mmr, sigma, sigmaRef, mmrMin, mmrMax);
    }

    function intrinsicDelta(OptionsMath.Leg[] calldata legs, uint256 s) external pure returns (int256) {
        return OptionsMath.intrinsicDelta(legs, s);
    }

    /// The gas one scenarioLoss costs, for the engine's budget (8 legs, steps as given).
    function scenarioLossGas(
        OptionsMath.Leg[] calldata legs,
        int256 premium,
        uint256 s0,
        uint256 sigma,
        uint256 t,
        OptionsMath.ScenarioParams calldata p
    ) external view returns (uint256 loss, uint256 gasUsed) {
        uint256 before = gasleft();
        loss = OptionsMath.scenarioLoss(legs, premium, s0, sigma, t, p);
        gasUsed = before - gasleft();
    }
}
