// SPDX-License-Identifier: MIT
// The engine's liquidation module: a perpetual position that breaches its maintenance margin (at the
// volatility-scaled rate, EngineState._maintenanceRate) at the conservative end of an attested price
// range is brought back above it by a partial close where one can (MarginMath.liquidationPlan),
// otherwise closed whole. A bounded penalty goes to the keeper
// (claimable) and the insurance fund; the rest goes back to the trader; a deficit below zero is
// covered by the destination insurance or recorded as bad debt. What a liquidation owes its source
// chain is queued (sent by whoever pays the fee: the keeper), so that no liquidation ever waits
// for the engine's own balance. It runs only by delegatecall from IsolatedMarginEngine.
pragma solidity ^0.8.22;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {MarginMath} from "../libraries/MarginMath.sol";
import {PriceAttestation} from "../interfaces/IPriceAttestations.sol";
import {EngineState} from "./EngineState.sol";

contract EngineLiquidation is EngineState, ReentrancyGuard {
    /// @notice The functions the engine routes here.
    function selectors() external pure returns (bytes4[] memory s) {
        s = new bytes4[](2);
        s[0] = this.liquidate.selector;
        s[1] = this.liquidateMany.selector;
    }

    /// @notice Liquidates a position that breaches its maintenance margin at the conservative end of
    /// an attested price range (a long at `high`, a short at `low`). The attestation must be fresh,
    /// for this market, signed by the attester quorum (signatures sorted by signer) and near this
    /// chain's own oracle. The whole collateral is SEIZEd: the SEIZE is queued for anyone to send.
    function liquidate(bytes32 positionKey, PriceAttestation calldata a, bytes[] calldata signatures) external nonReentrant {
        _requireNoStrategy(positionKey);
        Position storage p = positions[positionKey];
        if (p.size == 0) revert NothingToLiquidate();
        if (a.market != p.market) revert WrongMarket(p.market, a.market);
        bytes32 digest = _checkAttestation(a, markets[p.market], signatures);
        uint256 price = p.side == MarginMath.Side.Long ? a.high : a.low;
        _requireBreach(positionKey, _maintenanceRate(p.market), price);
        _liquidate(positionKey, price, digest);
    }

    /// @notice Liquidates, with one attestation of the market's range, every position of `keys` that
    /// breaches at its conservative end; the others (healthy, flat, closed meanwhile, another market)
    /// are skipped, so that a batch never fails for one position a trader rescued. Returns how many.
    function liquidateMany(bytes32[] calldata keys, PriceAttestation calldata a, bytes[] calldata signatures)
        external
        nonReentrant
        returns (uint256 count)
    {
        bytes32 digest = _checkAttestation(a, markets[a.market], signatures);
        uint256 mmr = _maintenanceRate(a.market);
        for (uint256 i; i < keys.length; i++) {
            Position storage p = positions[keys[i]];
            if (p.size == 0 || p.market != a.market) continue;
            uint256 price = p.side == MarginMath.Side.Long ? a.high : a.low;
            MarginMath.Account memory acct = _account(keys[i]);
            if (MarginMath.equity(acct, price) >= _toInt(MarginMath.maintenanceMargin(acct.position, mmr, price))) continue;
            _liquidate(keys[i], price, digest);
            count++;
        }
    }

    function _requireBreach(bytes32 key, uint256 mmr, uint256 price) private view {
        MarginMath.Account memory acct = _account(key);
        int256 eq = MarginMath.equity(acct, price);
        uint256 mm = MarginMath.maintenanceMargin(acct.position, mmr, price);
        if (eq >= _toInt(mm)) revert NotLiquidatable(eq, mm);
    }

    function _liquidate(bytes32 key, uint256 price, bytes32 digest) private {
        bytes32 market = positions[key].market;
        (uint256 closeSize, uint256 penalty, bool full) =
            MarginMath.liquidationPlan(_account(key), _maintenanceRate(market), uint256(markets[market].penaltyBps) * 1e14, price);
        if (full) _liquidateAll(key, price, digest, penalty);
        else _liquidatePart(key, price, digest, closeSize, penalty);
    }

    /// @dev Closes `size` at the attested price and charges the penalty: the keeper's share leaves the
    /// collateral for its rewards, the fund's share is a fee (SEIZEd when the position settles).
    function _liquidatePart(bytes32 key, uint256 price, bytes32 digest, uint256 size, uint256 penalty) private {
        Position storage p = positions[key];
        int256 pnl = MarginMath.pnl(MarginMath.Position({side: p.side, size: size, entryPrice: p.entryPrice}), price);
        p.realizedPnl += pnl;
        _reserveProfit(key, pnl);
        p.size -= size;
        _removeOpenInterest(p.market, p.side, size);
        uint256 toKeeper = _rewardKeeper(key, p, penalty);
        p.fees += penalty - toKeeper * _scaleOf(p.srcChainId, p.token);
        emit PositionPartiallyLiquidated(key, p.market, price, digest, size, penalty);
        emit PositionChanged(key, traderOf[key], positionIdOf[key], p.market);
    }

    /// @dev Closes the whole position at the attested price: equity less the penalty goes back to the
    /// trader (RELEASE), the keeper's share to its rewards, the rest of the collateral to the insurance
    /// fund (SEIZE); equity below zero is a deficit, covered here or recorded as bad debt.
    function _liquidateAll(bytes32 key, uint256 price, bytes32 digest, uint256 penalty) private {
        int256 eq = MarginMath.equity(_account(key), price);
        uint256 toKeeper = _rewardKeeper(key, positions[key], penalty);
        // What the trader keeps (USD): equity less the penalty.
        uint256 keeps = eq > _toInt(penalty) ? uint256(eq) - penalty : 0;
        Position memory p = positions[key];
        uint256 seized = _closeAll(key, p, keeps, price);
        if (eq < 0) _coverDeficit(key, p.market, uint256(-eq));
        emit PositionLiquidated(key, p.market, price, digest, seized + toKeeper);
        emit PositionChanged(key, traderOf[key], positionIdOf[key], p.market);
    }
}
