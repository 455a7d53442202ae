// SPDX-License-Identifier: MIT
// The engine's trading module: opens, grows and shrinks positions at this chain's oracle price,
// and the views of a position's margin account and of the oracle.
// It runs only by delegatecall from IsolatedMarginEngine (its storage is the engine's): called
// directly, it sees an empty state and every function reverts for want of a position or market.
pragma solidity ^0.8.22;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {MarginMath} from "../libraries/MarginMath.sol";
import {EngineState} from "./EngineState.sol";

contract EngineTrading is EngineState, ReentrancyGuard {
    /// @notice The functions the engine routes here.
    function selectors() external pure returns (bytes4[] memory s) {
        s = new bytes4[](4);
        s[0] = this.increase.selector;
        s[1] = this.decrease.selector;
        s[2] = this.accountOf.selector;
        s[3] = this.oraclePrice.selector;
    }

    /// @notice The margin account of a position as MarginMath sees it (stable collateral in USD 1e18,
    /// realized PnL folded into collateral or fees): what its equity and maintenance are judged on.
    function accountOf(bytes32 positionKey) external view returns (MarginMath.Account memory) {
        return _account(positionKey);
    }

    /// @notice This chain's oracle price of `market`, 1e18; reverts if stale or invalid.
    function oraclePrice(bytes32 market) external view returns (uint256) {
        return _oraclePrice(market);
    }

    /// @notice Opens (from no exposure) or grows a position at this chain's oracle price (plus the
    /// spread, against the trader), within the market's open-interest cap. The free
    /// collateral must stay non-negative afterwards: unrealized profit never backs new size, and the
    /// initial margin is measured at today's price.
    function increase(uint256 positionId, bytes32 market, MarginMath.Side side, uint256 size) external nonReentrant {
        if (paused) revert EnginePaused();
        if (size == 0) revert ZeroSize();
        Market storage m = markets[market];
        if (!m.enabled) revert MarketDisabled(market);
        bytes32 key = _positionKeyOf(msg.sender, positionId);
        // A position holds a perpetual or one options strategy, never both.
        _requireNoStrategy(key);
        Position storage p = positions[key];
        if (p.srcChainId == 0 || collateral[key][collateralKeyOf(p.srcChainId, p.token)] == 0) revert NoCollateral();
        if (!collateralConfig[p.srcChainId][p.token].usdValued) revert CollateralNotTradable(p.srcChainId, p.token);
        // Profit can only be paid in a configured settlement token: no trade before it is set.
        if (settlementToken == address(0)) revert InvalidConfig();
        uint256 oracle = _oraclePrice(market);
        uint256 price = _executionPrice(m, oracle, side == MarginMath.Side.Long);
        _addOpenInterest(market, side, size, m.maxOpenInterest);
        if (p.size == 0) {
            p.market = market;
            p.side = side;
            p.entryPrice = price;
        } else {
            if (p.market != market) revert WrongMarket(p.market, market);
            if (p.side != side) revert WrongSide();
            // Average entry rounded against the trader: a long's up, a short's down.
            p.entryPrice = MarginMath.mulDiv(
                p.size * p.entryPrice + size * price,
                1,
                p.size + size,
                side == MarginMath.Side.Long ? MarginMath.Rounding.Up : MarginMath.Rounding.Down
            );
        }
        p.size += size;
        uint256 fee = _fee(m, size, price);
        p.fees += fee;
        // At the oracle price: the spread the trader just paid is a loss the check must see.
        _requireFree(key, p, oracle);
        emit PositionTraded(key, true, size, price, fee);
        emit PositionChanged(key, msg.sender, positionId, market);
    }

    /// @notice Shrinks a position; the PnL of the part closed is realized (settled at close; a profit
    /// is reserved from the settlement pool at once).
    function decrease(uint256 positionId, uint256 size) external nonReentrant {
        bytes32 key = _positionKeyOf(msg.sender, positionId);
        _requireNoStrategy(key);
        Position storage p = positions[key];
        if (size == 0) revert ZeroSize();
        if (size > p.size) revert SizeTooLarge(size, p.size);
        int256 realizedBefore = p.realizedPnl;
        (uint256 price, uint256 fee) = _reduce(p, size);
        // Profit realized is set aside by the pool now, not promised until close.
        _reserveProfit(key, p.realizedPnl - realizedBefore);
        emit PositionTraded(key, false, size, price, fee);
        emit PositionChanged(key, msg.sender, positionId, p.market);
    }
}
