// SPDX-License-Identifier: MIT
// The engine's state, shared by the engine and its modules. The engine (IsolatedMarginEngine:
// admin, credits) runs its modules (EngineTrading, EngineSettlement, EngineLiquidation,
// EngineOptions) by delegatecall, so all of them must see the same storage: EngineState is the FIRST base of each,
// which puts its variables at the same slots in all of them (checked by test/unit/engine-layout).
// Everything a module needs to read or write lives here; nothing a module declares may hold state.
// Internal functions compile only into the contracts that call them.
pragma solidity ^0.8.22;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MarginMath} from "../libraries/MarginMath.sol";
import {MarginMessages} from "../libraries/MarginMessages.sol";
import {OptionsMath} from "../libraries/OptionsMath.sol";
import {IWormhole} from "../interfaces/IWormhole.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";
import {IPriceAttestations, PriceAttestation} from "../interfaces/IPriceAttestations.sol";

abstract contract EngineState {
    using SafeERC20 for IERC20;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    uint8 public constant TRANSPORT_LAYERZERO = 1;
    uint8 public constant TRANSPORT_WORMHOLE = 2;

    struct CollateralConfig {
        uint8 decimals;
        bool allowed;
        /// @dev Worth one USD per unit (a stablecoin): only such collateral margins a trade here.
        /// Other collateral is credited and can be withdrawn or closed, never traded on.
        bool usdValued;
    }

    /// @notice How RELEASE and SEIZE reach a source chain (its vault is the LayerZero peer or the
    /// Wormhole emitter registered for it).
    struct ReturnRoute {
        uint8 transport;
        uint128 lzReceiveGas;
        uint8 wormholeConsistency;
    }

    /// @notice Rates are 1e18 fixed point (5% = 0.05e18).
    struct Market {
        address priceFeed; // AggregatorV3Interface on this chain
        uint32 heartbeat; // seconds after which the feed's answer is stale
        uint32 maxAttestationAge; // seconds
        uint16 maxDeviationBps; // between an attested median and this chain's own oracle
        uint8 minAttestedChains; // independent chains an attestation must name
        bool enabled;
        uint64 imr;
        uint64 mmr;
        uint64 feeRate; // on traded notional
        address sequencerFeed; // the L2 sequencer uptime feed of this chain; 0 on an L1
        uint32 sequencerGrace; // seconds after the sequencer is back before prices count again
        uint16 spreadBps; // trades execute this far from the oracle price, against the trader
        uint128 minPrice; // 1e18; an answer below it is refused (a feed at its floor)
        uint128 maxPrice; // 1e18; above it refused; 0: no ceiling
        uint128 maxOpenInterest; // per side, asset units 1e18; 0: no cap
        uint16 penaltyBps; // liquidation penalty, of the notional closed; below the maintenance rate
        uint16 keeperShareBps; // the keeper's share of the penalty; the insurance fund has the rest
    }

    struct OpenInterest {
        uint256 long;
        uint256 short;
    }

    /// @notice One isolated position. Collateral is in `collateral[key][collateralKey]`.
    struct Position {
        bytes32 market;
        uint64 srcChainId; // where its collateral is locked (0 until the first credit)
        address token; // the collateral token on that chain
        MarginMath.Side side;
        uint256 size; // asset units, 1e18
        uint256 entryPrice; // USD per unit, 1e18
        uint256 fees; // USD, 1e18, accrued and not yet settled
        int256 realizedPnl; // USD, 1e18, from decreases, settled at close
    }

    /// @notice A RELEASE or SEIZE owed to a source chain: what it moves, to whom, and (a SEIZE) the
    /// market and price it was decided at. Sent at once when its caller pays the messaging fee
    /// (withdraw, close, settle), otherwise queued for anyone to send (liquidation, refunds).
    struct Settlement {
        uint64 chainId;
        uint8 kind;
        address trader;
        uint256 positionId;
        address token;
        uint256 amount;
        bytes32 market;
        uint256 price;
    }

    /// @notice One options leg as stored: OptionsMath.Leg packed in one slot (strike and size at most
    /// MAX_OPTION_AMOUNT, checked when the strategy opens).
    struct StoredLeg {
        bool isCall;
        bool isLong;
        uint120 strike; // USD per unit, 1e18
        uint120 size; // asset units, 1e18
    }

    /// @notice The options strategy a position holds (docs/options.md); `expiry` 0: none.
    struct Strategy {
        bytes32 market;
        int128 premium; // USD 1e18 the trader paid for it (< 0: a credit received)
        uint64 expiry; // unix seconds
        bool definedRisk; // every short covered: never liquidated
        StoredLeg[] legs;
    }

    /// @notice A market's options: who quotes premiums, how far out strategies may expire, its
    /// volatility and the scenario margin's grid; σ and rates 1e18 (0.8e18 = 80 %).
    struct OptionsConfig {
        address quoter; // the market maker's EIP-712 signer; 0: no strategy opens
        uint32 maxExpiry; // seconds from the open
        uint16 scenarioBps; // initial margin's price shock
        uint16 maintenanceScenarioBps; // maintenance's, below scenarioBps
        uint16 volShockBps; // the scenarios' volatility shock
        uint8 scenarioSteps; // price steps each side of the centre
        uint64 sigma; // the market's annualised volatility, within [volMin, volMax]
        uint64 sigmaRef; // the volatility at which perps keep their mmr; 0: mmr is not scaled
        uint64 volMin;
        uint64 volMax;
        uint64 mmrMin; // bounds of the scaled maintenance rate
        uint64 mmrMax;
        /// @dev An expired strategy settles at a price attested within this many seconds after its
        /// expiry: the price at expiry, not one its trader picks later. Later, only the vol updater
        /// (the operator's keeper) may settle it, so that a keeper's outage is no option for the trader.
        uint32 settleWindow;
        /// @dev The most the vol updater may move σ in one post, in bps of σ (the owner is not bound),
        /// and the least time between two of its posts: a hot key that goes wrong walks σ, slowly and
        /// in plain sight, instead of jumping it to volMax to liquidate every uncovered strategy at once.
        uint16 maxVolStepBps;
        uint32 minVolInterval;
        /// @dev The most option size open in the market, summed over every leg of every open strategy
        /// (asset units 1e18); what a quoter key gone wrong can cost the settlement pool is bounded by it,
        /// as maxOpenInterest bounds perps. 0: no strategy opens.
        uint128 maxOpenInterest;
    }

    // ---------------------------------------------------------------- credit path

    /// @notice The LayerZero endpoint of this chain (the engine's OApp endpoint), for the modules.
    address public lzEndpoint;
    /// @notice EVM chain id of each registered source, by LayerZero endpoint id.
    mapping(uint32 => uint64) public chainIdOfEid;
    /// @notice The vault of each registered source chain: the engine's LayerZero peer there.
    mapping(uint64 => address) internal lzVaultOf;
    /// @notice LayerZero endpoint id of each registered source chain (for RELEASE/SEIZE back).
    mapping(uint64 => uint32) internal eidOfChainId;
    /// @notice Accepted collateral per (source chain id, token on that chain).
    mapping(uint64 => mapping(address => CollateralConfig)) public collateralConfig;
    /// @notice The smallest withdrawal per (source chain id, token), in the token's units, unless
    /// it takes everything: every withdrawal is a cross-chain message.
    mapping(uint64 => mapping(address => uint256)) public minWithdraw;
    /// @notice lockIds already credited: the on-chain replay guard.
    mapping(bytes32 => bool) public processed;
    /// @notice Who may execute a CREDIT (the LayerZero executor, the caller of receiveWormholeMessage):
    /// the relayers whose route limits decide execution. A verified CREDIT that a relayer holds (above
    /// its route's cap) cannot be executed by someone else.
    mapping(address => bool) public executors;

    // Wormhole transport: the core contract, the trusted emitter (vault) per Wormhole chain id,
    // the EVM chain id behind it, and every VAA hash already consumed (each executes once).
    IWormhole public wormhole;
    mapping(uint16 => bytes32) public wormholeEmitters;
    mapping(uint16 => uint64) internal chainIdOfWormhole;
    mapping(bytes32 => bool) public consumedVaas;
    /// @notice Credited amount per positionKey and collateralKey, in the token's own units.
    mapping(bytes32 => mapping(bytes32 => uint256)) internal collateral;

    // ---------------------------------------------------------------- trading and settlement

    /// @notice By positionKey.
    mapping(bytes32 => Position) internal positions;
    /// @notice By market id (e.g. keccak256("ETH-USD")); read with the engine's markets(id).
    mapping(bytes32 => Market) internal markets;
    /// @notice Open size per market and side, capped by Market.maxOpenInterest.
    mapping(bytes32 => OpenInterest) public openInterest;
    /// @notice Who a positionKey belongs to, recorded at its first credit.
    mapping(bytes32 => address) internal traderOf;
    mapping(bytes32 => uint256) internal positionIdOf;
    /// @notice Nonce of the engine's last RELEASE/SEIZE per source chain; the first uses 1. One
    /// sequence per vault, numbered when sent, so that a relayer sees a gap in what one vault should receive.
    mapping(uint64 => uint64) public outboundNonce;
    mapping(uint64 => ReturnRoute) public returnRoutes;
    mapping(uint64 => uint16) internal wormholeChainOf;
    /// @notice Receives seized losses (on the source chains; the vaults hold the address).
    address public insuranceFund;
    /// @notice Pays profit beyond a position's collateral on this chain, in `settlementToken`.
    address public settlementPool;
    address public settlementToken;
    uint8 internal settlementDecimals;

    /// @notice Pays the deficits of liquidations that end below zero, on this chain, in `settlementToken`
    /// (into the settlement pool, which pays the other side's profit).
    address public destinationInsurance;
    /// @notice Deficits no insurance covered yet, per market, USD 1e18: the protocol's bad debt.
    mapping(bytes32 => uint256) public badDebt;
    /// @notice Profit the settlement pool could not pay at close, per trader, in `settlementToken` units.
    mapping(address => uint256) public profitOwed;
    /// @notice Profit a position realized (decrease, partial liquidation) and the pool has already
    /// set aside for it, held by the engine until the position settles, in `settlementToken` units.
    mapping(bytes32 => uint256) public profitEscrow;
    /// @notice Keepers' shares of liquidation penalties, claimable as a RELEASE: keeper → source chain → token → amount.
    mapping(address => mapping(uint64 => mapping(address => uint256))) public keeperRewards;

    /// @notice May pause (and unpause) new positions and credits at once, without the timelock's delay.
    address public pauser;
    /// @notice While set, no CREDIT executes (it waits, verified) and no position opens or grows;
    /// withdrawals, closes, settlements and liquidations go on.
    bool public paused;

    /// @notice Settlements waiting for someone to pay their messaging fee: id → hash of the Settlement.
    mapping(uint256 => bytes32) public queuedSettlements;
    /// @notice Ids handed out so far (the first is 1).
    uint256 public settlementsQueued;

    // ---------------------------------------------------------------- liquidation

    /// @notice Checks attestations against the attester set.
    IPriceAttestations public attestations;

    // ---------------------------------------------------------------- options (appended: never reorder what is above)

    /// @notice The open options strategy of each positionKey (read with strategyOf).
    mapping(bytes32 => Strategy) internal strategies;
    /// @notice Per market (read with optionsConfig).
    mapping(bytes32 => OptionsConfig) internal optionsConfigs;
    /// @notice Quote nonces already used (read with quoteNonceUsed): each signed quote opens once.
    mapping(bytes32 => bool) internal usedQuoteNonces;
    /// @notice May set a market's volatility within its bounds (the keeper's key), besides the owner.
    address public volUpdater;
    /// @notice Option size open per market, summed over the legs of its open strategies (1e18).
    mapping(bytes32 => uint256) public optionsOpenInterest;
    /// @notice When the vol updater last posted each market's σ.
    mapping(bytes32 => uint256) public volPostedAt;

    error InvalidSource();
    error UnsupportedKind(uint8 kind);
    error OriginMismatch();
    error AlreadyProcessed(bytes32 lockId);
    error CollateralNotAllowed(uint64 srcChainId, address token);
    error InvalidVaa(string reason);
    error UnknownEmitter(uint16 emitterChainId, bytes32 emitterAddress);
    error VaaAlreadyConsumed(bytes32 vaaHash);
    error InvalidConfig();
    error MarketDisabled(bytes32 market);
    error NoCollateral();
    error CollateralNotTradable(uint64 srcChainId, address token);
    error WrongMarket(bytes32 positionMarket, bytes32 market);
    error WrongSide();
    error ZeroSize();
    error SizeTooLarge(uint256 size, uint256 open);
    error BelowMinimum(uint256 amount, uint256 minimum);
    error InsufficientMargin(int256 free, uint256 required);
    error OracleStale(address feed, uint256 updatedAt);
    error OracleInvalid(address feed);
    error OracleOutOfBounds(uint256 price, uint256 minPrice, uint256 maxPrice);
    error SequencerDown(address feed);
    error SequencerGracePeriod(address feed, uint256 upSince);
    error OpenInterestCap(bytes32 market, uint256 openInterest, uint256 cap);
    error NoReturnRoute(uint64 chainId);
    error FeeNotPaid(uint256 missing);
    error RefundFailed();
    error NotQueued(uint256 id);
    error NothingToLiquidate();
    error NothingToSettle();
    error OracleDeviation(uint256 ownPrice, uint256 median);
    error NotLiquidatable(int256 equity, uint256 maintenance);
    error NotForThisEngine(uint64 targetChainId, address target);
    error NotExecutor(address executor);
    error UnknownFunction(bytes4 selector);
    error EnginePaused();
    error NotPauser(address caller);
    error StrategyOpen(bytes32 positionKey);
    error NoStrategy(bytes32 positionKey);
    error PerpOpen(bytes32 positionKey);
    error OptionsDisabled(bytes32 market);
    error InvalidExpiry(uint64 expiry, uint256 latest);
    error InvalidLegCount(uint256 count);
    error InvalidLeg(uint256 index);
    error InvalidPremium(int256 premium);
    error QuoteExpired(uint64 deadline);
    error QuoteNonceUsed(bytes32 nonce);
    error InvalidQuoteSignature(address signer);
    error NotExpired(uint64 expiry);
    error StrategyExpired(uint64 expiry);
    error AttestationBeforeExpiry(uint64 timestamp, uint64 expiry);
    error AttestationAfterSettleWindow(uint64 timestamp, uint256 windowEnd);
    error AttestedRangeTooWide(uint256 low, uint256 median, uint256 high);
    error RisklessQuote(int256 premium);
    error DefinedRiskStrategy(bytes32 positionKey);
    error NotVolUpdater(address caller);
    error VolatilityOutOfBounds(uint256 sigma, uint256 volMin, uint256 volMax);
    error VolatilityStepTooLarge(uint256 sigma, uint256 current, uint256 maxStepBps);
    error VolatilityPostedTooSoon(uint256 postedAt, uint256 minInterval);
    error OptionsOpenInterestCap(bytes32 market, uint256 openInterest, uint256 cap);

    event SourceRegistered(uint32 indexed lzEid, uint64 indexed chainId, address vault);
    event WormholeSourceRegistered(uint16 indexed wormholeChainId, uint64 indexed chainId, address vault);
    event WormholeSet(address indexed wormhole);
    event CollateralSet(uint64 indexed srcChainId, address indexed token, uint8 decimals, bool allowed, bool usdValued);
    event MinWithdrawSet(uint64 indexed srcChainId, address indexed token, uint256 minimum);
    event MarketSet(bytes32 indexed market, Market config);
    event ReturnRouteSet(uint64 indexed chainId, uint8 transport, uint128 lzReceiveGas, uint8 wormholeConsistency);
    event AttestationsSet(address indexed attestations);
    event SettlementSet(address insuranceFund, address settlementPool, address settlementToken);
    event PositionCredited(
        bytes32 indexed lockId,
        bytes32 indexed positionKey,
        address indexed trader,
        uint256 positionId,
        uint64 srcChainId,
        address token,
        uint256 amount,
        bytes32 transportId
    );
    /// @notice After any change to a position: a keeper re-reads it (accountOf) and re-indexes it.
    event PositionChanged(bytes32 indexed positionKey, address indexed trader, uint256 positionId, bytes32 indexed market);
    event PositionTraded(bytes32 indexed positionKey, bool increase, uint256 size, uint256 price, uint256 fee);
    event PositionClosed(bytes32 indexed positionKey, int256 settledUsd, uint256 released, uint256 seized, uint256 profitPaid);
    event PositionLiquidated(bytes32 indexed positionKey, bytes32 indexed market, uint256 price, bytes32 attestation, uint256 seized);
    /// @notice A liquidation that closed only `closedSize` (back above maintenance), charging `penalty` USD.
    event PositionPartiallyLiquidated(bytes32 indexed positionKey, bytes32 indexed market, uint256 price, bytes32 attestation, uint256 closedSize, uint256 penalty);
    /// @notice A liquidation's penalty: `keeperAmount` (collateral units) to the keeper, the rest of `penalty` (USD) to the insurance fund.
    event LiquidationPenalty(bytes32 indexed positionKey, address indexed keeper, uint256 penalty, uint256 keeperAmount);
    /// @notice A liquidation ended `deficit` USD below zero: `covered` settlement-token units came from the destination insurance, `uncovered` USD is bad debt.
    event BadDebt(bytes32 indexed positionKey, bytes32 indexed market, uint256 deficit, uint256 covered, uint256 uncovered);
    /// @notice The settlement pool paid `paid` of a profit and owes the trader `owed` more (claimProfit).
    event ProfitOwed(address indexed trader, uint256 paid, uint256 owed);
    /// @notice The pool set `amount` aside for a position's realized profit (what it could of it).
    event ProfitReserved(bytes32 indexed positionKey, uint256 amount);
    event DestinationInsuranceSet(address indexed insurance);
    event PauserSet(address indexed pauser);
    event PausedSet(bool paused, address by);
    event CollateralWithdrawn(bytes32 indexed positionKey, uint256 amount);
    /// @notice A CREDIT of a token this engine does not accept: the lock is refunded (a RELEASE back), never stranded.
    event CreditRefunded(bytes32 indexed lockId, uint64 indexed srcChainId, address indexed trader, address token, uint256 amount);
    /// @notice A settlement owed and not yet sent: anyone may send it with sendQueued(id, s), paying its fee.
    event SettlementQueued(uint256 indexed id, uint64 indexed dstChainId, Settlement s);
    event OptionsConfigSet(bytes32 indexed market, OptionsConfig config);
    event VolUpdaterSet(address indexed updater);
    event VolatilitySet(bytes32 indexed market, uint256 sigma, address by);
    /// @notice A strategy opened on a quote: `requirement` USD is what its margin had to cover (its
    /// maximum loss when defined-risk, else the initial scenario margin).
    event StrategyOpened(
        bytes32 indexed positionKey,
        bytes32 indexed market,
        uint64 expiry,
        int256 premium,
        bytes32 legsHash,
        bool definedRisk,
        uint256 requirement
    );
    /// @notice An expired strategy settled at `price` (the worst for the trader in the attested range), paying `payoff`.
    event StrategySettled(bytes32 indexed positionKey, uint256 price, int256 payoff);
    /// @notice An uncovered strategy closed below maintenance at `price`, realizing `value` and charging `penalty` USD.
    event StrategyLiquidated(bytes32 indexed positionKey, bytes32 indexed market, uint256 price, bytes32 attestation, int256 value, uint256 penalty);
    event SettlementSent(
        bytes32 indexed messageId,
        uint64 indexed dstChainId,
        uint8 kind,
        address trader,
        uint256 positionId,
        address token,
        uint256 amount,
        bytes32 transportId
    );

    // ---------------------------------------------------------------- internals

    function _positionKeyOf(address trader, uint256 positionId) internal pure returns (bytes32) {
        return keccak256(abi.encode(trader, positionId));
    }

    function collateralKeyOf(uint64 srcChainId, address token) internal pure returns (bytes32) {
        return keccak256(abi.encode(srcChainId, token));
    }

    /// @dev While a strategy is open, its collateral backs it: nothing may trade, release or settle the position.
    function _requireNoStrategy(bytes32 key) internal view {
        if (strategies[key].expiry != 0) revert StrategyOpen(key);
    }

    /// @dev The maintenance rate of a market's perpetuals: its mmr scaled by the volatility
    /// (clamp(mmr·σ/σ_ref, mmrMin, mmrMax), rounded up), or mmr itself while σ_ref is 0.
    function _maintenanceRate(bytes32 market) internal view returns (uint256) {
        OptionsConfig storage c = optionsConfigs[market];
        return OptionsMath.scaledRate(markets[market].mmr, c.sigma, c.sigmaRef, c.mmrMin, c.mmrMax);
    }

    /// @dev The attester quorum, freshness and form are PriceAttestations' checks; the deviation
    /// from this chain's own oracle is the engine's second check on chain. Liquidations and the
    /// settlement of expired strategies take prices only through here.
    function _checkAttestation(PriceAttestation calldata a, Market storage m, bytes[] calldata signatures)
        internal
        view
        returns (bytes32 digest)
    {
        digest = attestations.verify(a, signatures, m.maxAttestationAge, m.minAttestedChains);
        uint256 own = _oraclePrice(a.market);
        uint256 gap = own > a.median ? own - a.median : a.median - own;
        if (gap * BPS > a.median * m.maxDeviationBps) revert OracleDeviation(own, a.median);
    }

    /// @dev The margin account of a position as MarginMath sees it (stable collateral in USD 1e18,
    /// realized PnL folded into collateral or fees): what its equity and maintenance are judged on.
    function _account(bytes32 positionKey) internal view returns (MarginMath.Account memory a) {
        Position storage p = positions[positionKey];
        a = _accountOf(p, _collateralUsd(positionKey, p));
        if (p.realizedPnl >= 0) a.collateral.amount += uint256(p.realizedPnl);
        else a.fees += uint256(-p.realizedPnl);
    }

    /// @dev This chain's oracle price of `market`, 1e18; reverts if stale or invalid.
    function _oraclePrice(bytes32 market) internal view returns (uint256) {
        Market storage m = markets[market];
        if (m.priceFeed == address(0)) revert MarketDisabled(market);
        AggregatorV3Interface feed = AggregatorV3Interface(m.priceFeed);
        (uint80 roundId, int256 answer,, uint256 updatedAt, uint80 answeredInRound) = feed.latestRoundData();
        if (answer <= 0 || answeredInRound < roundId) revert OracleInvalid(m.priceFeed);
        if (updatedAt + m.heartbeat < block.timestamp) revert OracleStale(m.priceFeed, updatedAt);
        uint8 d = feed.decimals();
        // Exact for d ≤ 18, the only feeds accepted.
        if (d > 18) revert OracleInvalid(m.priceFeed);
        uint256 price = uint256(answer) * 10 ** (18 - d);
        // A feed pinned at its bounds (a crash below the aggregator's floor) must not set prices.
        if (price < m.minPrice || (m.maxPrice != 0 && price > m.maxPrice)) revert OracleOutOfBounds(price, m.minPrice, m.maxPrice);
        if (m.sequencerFeed != address(0)) _requireSequencerUp(m.sequencerFeed, m.sequencerGrace);
        return price;
    }

    /// @dev Chainlink's L2 sequencer uptime feed: 0 = up. While it is down, and for `grace` seconds
    /// after it is back (transactions queued on L1 land first), this chain's prices do not count.
    function _requireSequencerUp(address feed, uint32 grace) internal view {
        (, int256 status, uint256 startedAt,,) = AggregatorV3Interface(feed).latestRoundData();
        if (status != 0) revert SequencerDown(feed);
        if (startedAt == 0 || block.timestamp < startedAt + grace) revert SequencerGracePeriod(feed, startedAt);
    }

    /// @dev The price a trade executes at: `spreadBps` away from the oracle, against the trader
    /// (buying above, selling below), rounded against the trader too.
    function _executionPrice(Market storage m, uint256 oracle, bool buying) internal view returns (uint256) {
        if (m.spreadBps == 0) return oracle;
        return buying
            ? MarginMath.mulDiv(oracle, BPS + m.spreadBps, BPS, MarginMath.Rounding.Up)
            : MarginMath.mulDiv(oracle, BPS - m.spreadBps, BPS, MarginMath.Rounding.Down);
    }

    function _addOpenInterest(bytes32 market, MarginMath.Side side, uint256 size, uint256 cap) internal {
        OpenInterest storage oi = openInterest[market];
        uint256 after_ = (side == MarginMath.Side.Long ? oi.long : oi.short) + size;
        if (cap != 0 && after_ > cap) revert OpenInterestCap(market, after_, cap);
        if (side == MarginMath.Side.Long) oi.long = after_;
        else oi.short = after_;
    }

    function _removeOpenInterest(bytes32 market, MarginMath.Side side, uint256 size) internal {
        OpenInterest storage oi = openInterest[market];
        if (side == MarginMath.Side.Long) oi.long -= size;
        else oi.short -= size;
    }

    function _accountOf(Position storage p, uint256 usd) internal view returns (MarginMath.Account memory) {
        return MarginMath.Account({
            position: MarginMath.Position({side: p.side, size: p.size, entryPrice: p.entryPrice}),
            collateral: MarginMath.Collateral({kind: MarginMath.CollateralKind.Stable, amount: usd}),
            fees: p.fees
        });
    }

    /// @dev What may leave the position or back more size: collateral + min(unrealized PnL, 0) −
    /// fees − the initial margin at `price`. Realized profit is owed by the settlement pool and paid
    /// at close; it never backs a withdrawal or a trade (docs/margin.md).
    function _requireFree(bytes32 key, Position storage p, uint256 price) internal view {
        MarginMath.Account memory a = _accountOf(p, _collateralUsd(key, p));
        if (p.realizedPnl < 0) a.fees += uint256(-p.realizedPnl);
        uint256 imr = p.size == 0 ? 0 : markets[p.market].imr;
        int256 free = MarginMath.freeCollateral(a, imr, price);
        if (free < 0) revert InsufficientMargin(free, MarginMath.initialMargin(a.position, imr, price));
    }

    /// @dev Closes `size` of the position at the oracle price (less the spread), realizing its PnL and charging the fee.
    function _reduce(Position storage p, uint256 size) internal returns (uint256 price, uint256 fee) {
        Market storage m = markets[p.market];
        // Closing a long sells, closing a short buys.
        price = _executionPrice(m, _oraclePrice(p.market), p.side == MarginMath.Side.Short);
        _removeOpenInterest(p.market, p.side, size);
        int256 pnl = MarginMath.pnl(MarginMath.Position({side: p.side, size: size, entryPrice: p.entryPrice}), price);
        p.realizedPnl += pnl;
        fee = _fee(m, size, price);
        p.fees += fee;
        p.size -= size;
        if (p.size == 0) p.entryPrice = 0;
    }

    /// @dev fee = feeRate·q·P rounded up: the trader never pays less than the rate.
    function _fee(Market storage m, uint256 size, uint256 price) internal view returns (uint256) {
        return MarginMath.mulDiv(size * price, m.feeRate, WAD * WAD, MarginMath.Rounding.Up);
    }

    function _collateralUsd(bytes32 key, Position storage p) internal view returns (uint256) {
        if (p.srcChainId == 0) return 0;
        uint256 amount = collateral[key][collateralKeyOf(p.srcChainId, p.token)];
        return amount * _scaleOf(p.srcChainId, p.token);
    }

    /// @dev USD 1e18 per unit of a collateral (a stable one: its decimals up to 18).
    function _scaleOf(uint64 srcChainId, address token) internal view returns (uint256) {
        return 10 ** (18 - collateralConfig[srcChainId][token].decimals);
    }

    /// @dev Pays `amount` settlement-token units of profit from the pool, as much as it holds and
    /// allows; the rest is owed to the trader (claimProfit). Never reverts for a short pool.
    function _payProfit(address trader, uint256 amount) internal {
        if (amount == 0) return;
        uint256 paid = _available(settlementPool, amount);
        if (paid > 0) IERC20(settlementToken).safeTransferFrom(settlementPool, trader, paid);
        if (paid < amount) {
            profitOwed[trader] += amount - paid;
            emit ProfitOwed(trader, paid, amount - paid);
        }
    }

    /// @dev A deficit is owed to the other side of the trade (the settlement pool pays its profit):
    /// the destination insurance pays it into the pool as far as it can, the rest is bad debt.
    function _coverDeficit(bytes32 key, bytes32 market, uint256 deficit) internal {
        uint256 unit = 10 ** (18 - settlementDecimals);
        uint256 covered = _available(destinationInsurance, (deficit + unit - 1) / unit);
        if (covered > 0) IERC20(settlementToken).safeTransferFrom(destinationInsurance, settlementPool, covered);
        uint256 uncovered = covered * unit >= deficit ? 0 : deficit - covered * unit;
        badDebt[market] += uncovered;
        emit BadDebt(key, market, deficit, covered, uncovered);
    }

    /// @dev Realized profit is reserved at once: the pool moves it (as far as it can) into the engine,
    /// held for the position, so that a pool drained later cannot default on profit already made.
    function _reserveProfit(bytes32 key, int256 realized) internal {
        if (realized <= 0) return;
        uint256 moved = _available(settlementPool, uint256(realized) / 10 ** (18 - settlementDecimals));
        if (moved == 0) return;
        profitEscrow[key] += moved;
        IERC20(settlementToken).safeTransferFrom(settlementPool, address(this), moved);
        emit ProfitReserved(key, moved);
    }

    /// @dev Pays a settling position's profit: from what was reserved for it first, then from the pool
    /// (what it can, the rest owed); what was reserved and is not owed (later losses) goes back to the pool.
    function _settleProfit(bytes32 key, address trader, uint256 amount) internal {
        uint256 escrow = profitEscrow[key];
        if (escrow > 0) delete profitEscrow[key];
        uint256 fromEscrow = escrow < amount ? escrow : amount;
        if (fromEscrow > 0) IERC20(settlementToken).safeTransfer(trader, fromEscrow);
        if (escrow > fromEscrow) IERC20(settlementToken).safeTransfer(settlementPool, escrow - fromEscrow);
        _payProfit(trader, amount - fromEscrow);
    }

    /// @dev What `from` can pay the engine in settlement token, up to `amount`.
    function _available(address from, uint256 amount) internal view returns (uint256) {
        if (from == address(0) || settlementToken == address(0)) return 0;
        IERC20 t = IERC20(settlementToken);
        uint256 can = t.balanceOf(from);
        uint256 allowed = t.allowance(from, address(this));
        if (allowed < can) can = allowed;
        return can < amount ? can : amount;
    }

    /// @dev A settlement nobody has paid for yet: anyone sends it later with sendQueued.
    function _queue(Settlement memory s) internal {
        uint256 id = ++settlementsQueued;
        queuedSettlements[id] = keccak256(abi.encode(s));
        emit SettlementQueued(id, s.chainId, s);
    }

    /// @dev The settlement of a position that goes to `chainId`, for its trader and collateral.
    function _settlementOf(bytes32 key, Position memory p, uint8 kind, uint256 amount, uint256 price)
        internal
        view
        returns (Settlement memory)
    {
        return Settlement({
            chainId: p.srcChainId,
            kind: kind,
            trader: traderOf[key],
            positionId: positionIdOf[key],
            token: p.token,
            amount: amount,
            market: kind == MarginMessages.SEIZE ? p.market : bytes32(0),
            price: kind == MarginMessages.SEIZE ? price : 0
        });
    }

    /// @dev Queues the RELEASE of what the trader keeps, in its collateral up to what is held (any
    /// realized profit beyond that from the settlement pool), and the SEIZE of the rest; returns it.
    /// The position is gone afterwards.
    function _closeAll(bytes32 key, Position memory p, uint256 keeps, uint256 price) internal returns (uint256 seized) {
        bytes32 ck = collateralKeyOf(p.srcChainId, p.token);
        uint256 held = collateral[key][ck];
        uint256 scale = _scaleOf(p.srcChainId, p.token);
        uint256 released = keeps / scale < held ? keeps / scale : held;
        seized = held - released;
        collateral[key][ck] = 0;
        if (released > 0) _queue(_settlementOf(key, p, MarginMessages.RELEASE, released, 0));
        if (seized > 0) _queue(_settlementOf(key, p, MarginMessages.SEIZE, seized, price));
        _settleProfit(key, traderOf[key], keeps > released * scale ? (keeps - released * scale) / 10 ** (18 - settlementDecimals) : 0);
        _removeOpenInterest(p.market, p.side, p.size);
        delete positions[key];
    }

    /// @dev The keeper's share of a liquidation penalty, in collateral units (rounded down), moved out
    /// of the position's collateral into the caller's claimable rewards on the collateral's chain.
    function _rewardKeeper(bytes32 key, Position storage p, uint256 penalty) internal returns (uint256 units) {
        units = (penalty * markets[p.market].keeperShareBps / BPS) / _scaleOf(p.srcChainId, p.token);
        bytes32 ck = collateralKeyOf(p.srcChainId, p.token);
        if (units > collateral[key][ck]) units = collateral[key][ck];
        if (units == 0) return 0;
        collateral[key][ck] -= units;
        keeperRewards[msg.sender][p.srcChainId][p.token] += units;
        emit LiquidationPenalty(key, msg.sender, penalty, units);
    }

    function _toInt(uint256 x) internal pure returns (int256) {
        return SafeCast.toInt256(x);
    }
}
