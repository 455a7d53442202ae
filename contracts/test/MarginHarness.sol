// SPDX-License-Identifier: MIT
// Test-only: exposes the MarginMath library so TypeScript tests can run it against
// test/vectors/margin.json, every output of one case in one call.
pragma solidity ^0.8.22;

import {MarginMath} from "../libraries/MarginMath.sol";

contract MarginHarness {
    struct Outputs {
        uint256 notional;
        int256 pnl;
        uint256 collateralValue;
        int256 equity;
        uint256 initialMargin;
        int256 freeCollateral;
        uint256 maintenanceMargin;
        bool liquidatable;
        bool hasLiquidationPrice;
        uint256 liquidationPrice;
    }

    function evaluate(MarginMath.Account calldata a, uint256 imr, uint256 mmr, uint256 markPrice)
        external
        pure
        returns (Outputs memory o)
    {
        MarginMath.Account memory account = a;
        o.notional = MarginMath.notional(account.position.size, markPrice);
        o.pnl = MarginMath.pnl(account.position, markPrice);
        o.collateralValue = MarginMath.collateralValue(account.collateral, markPrice);
        o.equity = MarginMath.equity(account, markPrice);
        o.initialMargin = MarginMath.initialMargin(account.position, imr, markPrice);
        o.freeCollateral = MarginMath.freeCollateral(account, imr, markPrice);
        o.maintenanceMargin = MarginMath.maintenanceMargin(account.position, mmr, markPrice);
        o.liquidatable = MarginMath.isLiquidatable(account, mmr, markPrice);
        (o.hasLiquidationPrice, o.liquidationPrice) = MarginMath.liquidationPrice(account, mmr);
    }

    function liquidationPlan(MarginMath.Account calldata a, uint256 mmr, uint256 penaltyRate, uint256 price)
        external
        pure
        returns (uint256 closeSize, uint256 penalty, bool full, uint256 deficit)
    {
        (closeSize, penalty, full) = MarginMath.liquidationPlan(a, mmr, penaltyRate, price);
        // As EngineLiquidation takes it: equity below zero at the liquidation price.
        int256 eq = MarginMath.equity(a, price);
        if (full && eq < 0) deficit = uint256(-eq);
    }

    function mulDiv(uint256 x, uint256 y, uint256 d, MarginMath.Rounding rounding) external pure returns (uint256) {
        return MarginMath.mulDiv(x, y, d, rounding);
    }
}
