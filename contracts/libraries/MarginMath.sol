// SPDX-License-Identifier: MIT
// Isolated margin maths (docs/margin.md): 1e18 fixed point, every rounding against the trader.
// relayer/margin/ is the TypeScript twin; both are checked against test/vectors/margin.json.
pragma solidity ^0.8.22;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

library MarginMath {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant WAD2 = 1e36;

    enum Rounding {
        Down,
        Up
    }

    enum Side {
        Long,
        Short
    }

    enum CollateralKind {
        Stable,
        Asset
    }

    /// size q in units of the asset (1e18); entryPrice E in USD per unit (1e18).
    struct Position {
        Side side;
        uint256 size;
        uint256 entryPrice;
    }

    /// Stable: `amount` USD (1e18). Asset: `amount` units of the traded asset (1e18), worth amount·P.
    struct Collateral {
        CollateralKind kind;
        uint256 amount;
    }

    /// One isolated position with its collateral and the fees it has accrued (USD, 1e18).
    struct Account {
        Position position;
        Collateral collateral;
        uint256 fees;
    }

    error ZeroSize();
    error RateOutOfRange(uint256 rate, uint256 max);
    error DivisionByZero();

    /// x·y/d with a 512-bit product, rounded as asked.
    function mulDiv(uint256 x, uint256 y, uint256 d, Rounding rounding) internal pure returns (uint256) {
        if (d == 0) revert DivisionByZero();
        return Math.mulDiv(x, y, d, rounding == Rounding.Up ? Math.Rounding.Ceil : Math.Rounding.Floor);
    }

    /// q·P rounded UP: the exposure a margin is measured against is never understated.
    function notional(uint256 size, uint256 price) internal pure returns (uint256) {
        return mulDiv(size, price, WAD, Rounding.Up);
    }

    /// Long q(P − E), short q(E − P), rounded toward −∞: gains round down, losses round up in
    /// magnitude, so the trader is never credited a fraction they did not earn.
    function pnl(Position memory p, uint256 markPrice) internal pure returns (int256) {
        bool up = markPrice >= p.entryPrice;
        uint256 move = up ? markPrice - p.entryPrice : p.entryPrice - markPrice;
        bool isGain = move != 0 && up == (p.side == Side.Long);
        int256 magnitude = SafeCast.toInt256(mulDiv(p.size, move, WAD, isGain ? Rounding.Down : Rounding.Up));
        return isGain ? magnitude : -magnitude;
    }

    /// Stable as is; asset a·P rounded DOWN: collateral is never overvalued.
    function collateralValue(Collateral memory c, uint256 markPrice) internal pure returns (uint256) {
        if (c.kind == CollateralKind.Stable) return c.amount;
        return mulDiv(c.amount, markPrice, WAD, Rounding.Down);
    }

    /// collateralValue(P) + pnl(P) − fees: the sum of the components as each is reported.
    function equity(Account memory a, uint256 markPrice) internal pure returns (int256) {
        _checkAccount(a);
        int256 value = SafeCast.toInt256(collateralValue(a.collateral, markPrice));
        return value + pnl(a.position, markPrice) - SafeCast.toInt256(a.fees);
    }

    /// imr·q·P at today's price, one rounding UP: more margin required to open or withdraw.
    function initialMargin(Position memory p, uint256 imr, uint256 markPrice) internal pure returns (uint256) {
        _checkRate(imr, WAD);
        return mulDiv(p.size * markPrice, imr, WAD2, Rounding.Up);
    }

    /// collateralValue(P) + min(pnl(P), 0) − fees − initialMargin(P): what may leave the account
    /// or back more size. Unrealized profit never counts (it is not money until it is realized).
    /// An account without exposure is its collateral less its fees.
    function freeCollateral(Account memory a, uint256 imr, uint256 markPrice) internal pure returns (int256) {
        int256 value = SafeCast.toInt256(collateralValue(a.collateral, markPrice)) - SafeCast.toInt256(a.fees);
        if (a.position.size == 0) return value;
        int256 loss = pnl(a.position, markPrice);
        if (loss > 0) loss = 0;
        return value + loss - SafeCast.toInt256(initialMargin(a.position, imr, markPrice));
    }

    /// mmr·q·P, one rounding UP: more margin required to stay open.
    function maintenanceMargin(Position memory p, uint256 mmr, uint256 markPrice) internal pure returns (uint256) {
        _checkRate(mmr, WAD);
        return mulDiv(p.size * markPrice, mmr, WAD2, Rounding.Up);
    }

    /// @notice How a breached account is liquidated at P with penalty rate `penaltyRate` (of the
    /// notional closed). Partial when it can be: the smallest size x whose close (its PnL realized,
    /// the penalty charged) leaves equity above the maintenance margin of what stays open (by 1 wei);
    /// otherwise the whole position, with a penalty bounded by what equity is left (never below 0).
    /// `full` is then true and `closeSize` the whole size. docs/liquidation.md.
    function liquidationPlan(Account memory a, uint256 mmr, uint256 penaltyRate, uint256 price)
        internal
        pure
        returns (uint256 closeSize, uint256 penalty, bool full)
    {
        int256 eq = equity(a, price);
        if (eq > 0 && penaltyRate < mmr && price > 0) {
            (closeSize, penalty) = _partial(a, eq, mmr, penaltyRate, price);
            if (closeSize < a.position.size) return (closeSize, penalty, false);
        }
        uint256 whole = mulDiv(a.position.size * price, penaltyRate, WAD2, Rounding.Up);
        uint256 left = eq > 0 ? uint256(eq) : 0;
        return (a.position.size, whole < left ? whole : left, true);
    }

    /// @dev Closing x at P keeps equity (its PnL was already in it, but its two parts round apart by
    /// up to 1 wei) less the penalty, and frees mmr·x·P of margin: x ≥ (mm − eq) / (P·(mmr − π)).
    /// Each wei of rounding moves that by about 1e36 / (P·(mmr − π)) wei of size, so the smallest x
    /// that restores the account (with that 1 wei to spare) is searched in a window that wide around
    /// the bound. Returns the whole size when no smaller close restores it.
    function _partial(Account memory a, int256 eq, uint256 mmr, uint256 penaltyRate, uint256 price)
        private
        pure
        returns (uint256 x, uint256 pen)
    {
        Restore memory r = Restore(a, eq, mmr, penaltyRate, price);
        (uint256 lo, uint256 hi) = _window(r);
        if (lo > hi || !_restores(r, hi)) return (a.position.size, 0);
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (_restores(r, mid)) hi = mid;
            else lo = mid + 1;
        }
        return (lo, mulDiv(lo * price, penaltyRate, WAD2, Rounding.Up));
    }

    /// @dev The account and the terms of its liquidation, in one place (the search needs them all).
    struct Restore {
        Account a;
        int256 eq;
        uint256 mmr;
        uint256 rate;
        uint256 price;
    }

    /// @dev The sizes searched: the bound ± what a few wei of rounding move it by, below the whole size.
    function _window(Restore memory r) private pure returns (uint256 lo, uint256 hi) {
        uint256 mm = maintenanceMargin(r.a.position, r.mmr, r.price);
        uint256 shortfall = r.eq >= SafeCast.toInt256(mm) ? 0 : mm - uint256(r.eq);
        uint256 perWei = r.price * (r.mmr - r.rate);
        uint256 bound = mulDiv(shortfall, WAD2, perWei, Rounding.Up);
        uint256 window = mulDiv(4, WAD2, perWei, Rounding.Up) + 4;
        uint256 last = r.a.position.size - 1;
        lo = bound > window ? bound - window : 0;
        hi = bound + window < last ? bound + window : last;
    }

    /// @dev Whether closing x at P, with its penalty, leaves equity above the margin of what stays
    /// open, with 1 wei to spare for the rounding of the PnL split in two.
    function _restores(Restore memory r, uint256 x) private pure returns (bool) {
        uint256 pen = mulDiv(x * r.price, r.rate, WAD2, Rounding.Up);
        return r.eq - SafeCast.toInt256(pen) - 1 >= SafeCast.toInt256(_marginLeft(r.a.position, x, r.mmr, r.price));
    }

    function _marginLeft(Position memory p, uint256 closed, uint256 mmr, uint256 price) private pure returns (uint256) {
        return maintenanceMargin(Position(p.side, p.size - closed, p.entryPrice), mmr, price);
    }

    /// equity < maintenance margin at P.
    function isLiquidatable(Account memory a, uint256 mmr, uint256 markPrice) internal pure returns (bool) {
        int256 mm = SafeCast.toInt256(maintenanceMargin(a.position, mmr, markPrice));
        return equity(a, markPrice) < mm;
    }

    /// A long is liquidated at or below the price, a short at or above it; exists == false when no
    /// price on the losing side liquidates it. Fees are part of equity, hence of the boundary.
    /// Numerators and denominators are in 1e36.
    function liquidationPrice(Account memory a, uint256 mmr) internal pure returns (bool exists, uint256 price) {
        _checkAccount(a);
        // At mmr = 100% a stable long's boundary does not depend on the price at all.
        _checkRate(mmr, WAD - 1);
        uint256 q = a.position.size;
        uint256 entryNotional = q * a.position.entryPrice;
        uint256 fees = a.fees * WAD;
        uint256 held = a.collateral.amount * WAD;
        bool asset = a.collateral.kind == CollateralKind.Asset;

        if (a.position.side == Side.Long) {
            // Stable: (qE + f − C) / (q(1 − mmr)); asset: (qE + f) / (a + q(1 − mmr)).
            uint256 owed = entryNotional + fees;
            uint256 covered = asset ? 0 : held;
            if (owed <= covered) return (false, 0);
            uint256 keptPerPrice = q * (WAD - mmr);
            uint256 den = asset ? held + keptPerPrice : keptPerPrice;
            // UP: a higher trigger liquidates a falling long earlier, never later than the exact boundary.
            return (true, mulDiv(owed - covered, WAD, den, Rounding.Up));
        }

        // Stable: (qE + C − f) / (q(1 + mmr)); asset: (qE − f) / (q(1 + mmr) − a).
        uint256 exposurePerPrice = q * (WAD + mmr);
        if (asset && exposurePerPrice <= held) return (false, 0);
        uint256 sden = asset ? exposurePerPrice - held : exposurePerPrice;
        uint256 backing = asset ? entryNotional : entryNotional + held;
        // Fees at least the backing: equity is already below the margin at any positive price.
        if (backing <= fees) return (true, 0);
        // DOWN: a lower trigger liquidates a rising short earlier, never later than the exact boundary.
        return (true, mulDiv(backing - fees, WAD, sden, Rounding.Down));
    }

    function _checkAccount(Account memory a) private pure {
        if (a.position.size == 0) revert ZeroSize();
    }

    function _checkRate(uint256 rate, uint256 max) private pure {
        if (rate > max) revert RateOutOfRange(rate, max);
    }
}
